import { type AnyAggregateDefinition, ValidationFailedError } from '@strata/core';
import type { StrataDatabase } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import { pendingIdsAmong } from '../sync/pending-commands.ts';
import { type LogEntry, logEntry, pageLimit } from './event-log.ts';

/** An event of an aggregate's history, and whether this app version can read it. */
export interface HistoryEntry extends LogEntry {
  /** Why the aggregate's definition cannot decode it (unknown type, invalid data); else undefined. */
  readonly decodeError?: string;
}

/** A page of an aggregate's history, newest version first. */
export interface HistoryPage {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The stream's last version here (0: no events). */
  readonly version: number;
  readonly entries: readonly HistoryEntry[];
  /** Pass as `beforeVersion` for the older page; undefined on the oldest. */
  readonly nextBeforeVersion?: number;
}

/** Which page of an aggregate's history. */
export interface HistoryQuery {
  /** Only versions below this one. Defaults to the newest. */
  readonly beforeVersion?: number | undefined;
  /** Events per page. Defaults to 50; at most 500. */
  readonly limit?: number | undefined;
}

/**
 * One page of an aggregate's stored events, newest first, through the stream's index range.
 * With the aggregate's definition, each event is decoded as `strata.history` would: one this
 * app version cannot read says why instead of hiding the page.
 */
export async function readHistoryPage(
  db: StrataDatabase,
  stream: { readonly aggregateType: string; readonly aggregateId: string },
  definition: AnyAggregateDefinition | undefined,
  query: HistoryQuery = {},
): Promise<HistoryPage> {
  const limit = pageLimit(query.limit);
  const before = query.beforeVersion;
  if (before !== undefined && (!Number.isInteger(before) || before < 1)) {
    throw new ValidationFailedError(`Not a version: ${before}`, [
      { path: ['beforeVersion'], message: 'a positive integer' },
    ]);
  }
  const [lower, upper] = streamRange(stream);
  const index = db.events.where('[aggregateType+aggregateId+version]');
  const [rows, tip] = await Promise.all([
    index
      .between(
        lower,
        before === undefined ? upper : [stream.aggregateType, stream.aggregateId, before],
        true,
        before === undefined,
      )
      .reverse()
      .limit(limit + 1)
      .toArray(),
    index.between(lower, upper, true, true).last(),
  ]);
  const page = rows.slice(0, limit);
  const pending = await pendingIdsAmong(db, page);
  const oldest = page.at(-1);
  return {
    aggregateType: stream.aggregateType,
    aggregateId: stream.aggregateId,
    version: tip?.version ?? 0,
    entries: page.map((row) => {
      const entry = logEntry(row, pending.has(row.id));
      const decodeError = definition === undefined ? undefined : decodeFailure(definition, row);
      return decodeError === undefined ? entry : { ...entry, decodeError };
    }),
    ...(rows.length > limit && oldest !== undefined ? { nextBeforeVersion: oldest.version } : {}),
  };
}

function decodeFailure(definition: AnyAggregateDefinition, row: unknown): string | undefined {
  try {
    definition.events.decode(row as never);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
