import { ValidationFailedError } from '@strata/core';
import type { StrataDatabase, UnreadableEventRow } from '../database/strata-database.ts';
import { readUnreadableStatus, type UnreadableStatus } from '../sync/unreadable-events.ts';
import { pageLimit } from './event-log.ts';

/** A page of the events this app version could not read and keeps unapplied. */
export interface UnreadablePage {
  /** How many, which aggregates they hold, by type and schema version; undefined: none kept. */
  readonly summary: UnreadableStatus | undefined;
  /** The kept rows of this page, by aggregate and version (the order they apply in). */
  readonly rows: readonly UnreadableEventRow[];
  /** Pass as `after` for the next page; undefined on the last one. */
  readonly next?: string;
}

/** Which page of the kept unreadable events. */
export interface UnreadableQuery {
  /** The previous page's `next`. */
  readonly after?: string | undefined;
  /** Rows per page. Defaults to 50; at most 500. */
  readonly limit?: number | undefined;
}

const INDEX = '[aggregateType+aggregateId+version]';

/**
 * The one place the devtools read kept-unreadable events: the version-skew module's own
 * summary (`readUnreadableStatus`, what `sync.status.unreadable` says) and a page of its
 * `unreadable` table through the table's aggregate index, so the list is bounded however many
 * events a newer app version wrote. Shown as stored; the devtools never change them.
 */
export async function readUnreadablePage(
  db: StrataDatabase,
  query: UnreadableQuery = {},
): Promise<UnreadablePage> {
  const limit = pageLimit(query.limit);
  const after = query.after === undefined ? undefined : keyOf(query.after);
  const range =
    after === undefined ? db.unreadable.orderBy(INDEX) : db.unreadable.where(INDEX).above(after);
  const [summary, rows] = await Promise.all([
    readUnreadableStatus(db),
    range.limit(limit + 1).toArray(),
  ]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next =
    rows.length > limit && last !== undefined
      ? JSON.stringify([last.aggregateType, last.aggregateId, last.version])
      : undefined;
  return { summary, rows: page, ...(next === undefined ? {} : { next }) };
}

function keyOf(cursor: string): [string, string, number] {
  let key: unknown;
  try {
    key = JSON.parse(cursor);
  } catch {
    key = undefined;
  }
  if (
    Array.isArray(key) &&
    key.length === 3 &&
    typeof key[0] === 'string' &&
    typeof key[1] === 'string' &&
    Number.isInteger(key[2])
  ) {
    return key as [string, string, number];
  }
  throw new ValidationFailedError(`Not a cursor of the unreadable events: ${cursor.slice(0, 80)}`, [
    { path: ['after'], message: 'pass the `next` of the previous page' },
  ]);
}
