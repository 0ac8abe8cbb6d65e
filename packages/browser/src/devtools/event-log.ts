import { ValidationFailedError } from '@strata/core';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';
import { pendingIdsAmong } from '../sync/pending-commands.ts';

/** Which events of the local log to read, and where to start. */
export interface LogQuery {
  /** Only this aggregate type's events. */
  readonly aggregateType?: string | undefined;
  /** With `aggregateType`: only aggregates whose id starts with this (an exact id matches too). */
  readonly aggregateId?: string | undefined;
  /** The previous page's `next`, to read the page after it. */
  readonly after?: string | undefined;
  /** Events per page. Defaults to 50; at most 500. */
  readonly limit?: number | undefined;
}

/** One event of the local log, as stored here. */
export interface LogEntry {
  /** Its position in this device's log (not the server's). */
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly occurredAt: string;
  /** `pending`: appended here and not yet acknowledged; `confirmed`: stored by the server. */
  readonly status: 'pending' | 'confirmed';
  /** Where the server stored it, when the server sent it. */
  readonly serverPosition?: number;
  readonly data: unknown;
  readonly metadata: unknown;
}

/** A page of the local log. */
export interface LogPage {
  readonly entries: readonly LogEntry[];
  /** Events the query matches in all (every page). */
  readonly total: number;
  /** Pass as `after` for the next page; undefined on the last one. */
  readonly next?: string;
}

export const LOG_PAGE_DEFAULT = 50;
export const LOG_PAGE_MAX = 500;

const STREAM_INDEX = '[aggregateType+aggregateId+version]';
const AFTER_ALL: readonly never[] = [];

/**
 * One page of the local log, read through an index range with a limit: a log of 100k events
 * costs a page's rows (and a count), never the whole table. Unfiltered, newest first (by local
 * position); by aggregate, by aggregate id and then version, newest version first (the stream
 * index's order, so a filter never scans other aggregates' events). Only Dexie reads: a live
 * query over it watches exactly the ranges it read.
 */
export async function readLogPage(db: StrataDatabase, query: LogQuery = {}): Promise<LogPage> {
  const limit = pageLimit(query.limit);
  const type = query.aggregateType === '' ? undefined : query.aggregateType;
  let rows: EventRow[];
  let total: number;
  let next: string | undefined;
  if (type === undefined) {
    if (query.aggregateId !== undefined && query.aggregateId !== '') {
      throw new ValidationFailedError('An aggregate id filter needs an aggregate type', [
        { path: ['aggregateType'], message: 'required with aggregateId' },
      ]);
    }
    const before = query.after === undefined ? undefined : positionCursor(query.after);
    const range =
      before === undefined ? db.events.orderBy(':id') : db.events.where(':id').below(before);
    [rows, total] = await Promise.all([
      range
        .reverse()
        .limit(limit + 1)
        .toArray(),
      db.events.count(),
    ]);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    if (last !== undefined) next = `p${last.position}`;
  } else {
    const prefix = query.aggregateId ?? '';
    // [type] sorts before every [type, id, version] key, and [type, []] after them (an array
    // key is greater than any string); ids starting with `prefix` sort below `${prefix}\uffff`.
    const lower = prefix === '' ? [type] : [type, prefix];
    const upper = [type, prefix === '' ? AFTER_ALL : `${prefix}\uffff`];
    const before = query.after === undefined ? upper : keyCursor(query.after, type);
    const matching = db.events.where(STREAM_INDEX);
    [rows, total] = await Promise.all([
      matching
        .between(lower, before, true, query.after === undefined)
        .reverse()
        .limit(limit + 1)
        .toArray(),
      db.events.where(STREAM_INDEX).between(lower, upper, true, true).count(),
    ]);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    if (last !== undefined) {
      next = `k${JSON.stringify([last.aggregateType, last.aggregateId, last.version])}`;
    }
  }
  const page = rows.slice(0, limit);
  const pending = await pendingIdsAmong(db, page);
  return {
    entries: page.map((row) => logEntry(row, pending.has(row.id))),
    total,
    ...(next === undefined ? {} : { next }),
  };
}

/**
 * The aggregate types in the local log, in order, by skipping through the stream index: one
 * read per type (at most `limit`), however many events each has.
 */
export async function readAggregateTypes(db: StrataDatabase, limit = 100): Promise<string[]> {
  const types: string[] = [];
  let row = await db.events.orderBy(STREAM_INDEX).first();
  while (row !== undefined && types.length < limit) {
    types.push(row.aggregateType);
    row = await db.events.where(STREAM_INDEX).above([row.aggregateType, AFTER_ALL]).first();
  }
  return types;
}

export function logEntry(row: EventRow, pending: boolean): LogEntry {
  return {
    position: row.position,
    id: row.id,
    type: row.type,
    schemaVersion: row.schemaVersion,
    aggregateType: row.aggregateType,
    aggregateId: row.aggregateId,
    version: row.version,
    occurredAt: row.occurredAt,
    status: pending ? 'pending' : 'confirmed',
    ...(row.serverPosition === undefined ? {} : { serverPosition: row.serverPosition }),
    data: row.data,
    metadata: row.metadata,
  };
}

/** A page size within 1..`LOG_PAGE_MAX`; a bad one is a typed error, not a huge read. */
export function pageLimit(limit: number | undefined, max = LOG_PAGE_MAX): number {
  if (limit === undefined) return Math.min(LOG_PAGE_DEFAULT, max);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ValidationFailedError(`A page holds 1 to ${max} rows, not ${limit}`, [
      { path: ['limit'], message: `an integer from 1 to ${max}` },
    ]);
  }
  return limit;
}

function positionCursor(cursor: string): number {
  const position = /^p(\d{1,15})$/.exec(cursor)?.[1];
  if (position === undefined) throw badCursor(cursor);
  return Number(position);
}

function keyCursor(cursor: string, type: string): unknown[] {
  let key: unknown;
  try {
    key = cursor.startsWith('k') ? JSON.parse(cursor.slice(1)) : undefined;
  } catch {
    key = undefined;
  }
  const valid =
    Array.isArray(key) &&
    key.length === 3 &&
    key[0] === type &&
    typeof key[1] === 'string' &&
    Number.isInteger(key[2]);
  if (!valid) throw badCursor(cursor);
  return key as unknown[];
}

function badCursor(cursor: string): ValidationFailedError {
  return new ValidationFailedError(`Not a cursor of this log query: ${cursor.slice(0, 80)}`, [
    { path: ['after'], message: 'pass the `next` of the previous page of the same query' },
  ]);
}
