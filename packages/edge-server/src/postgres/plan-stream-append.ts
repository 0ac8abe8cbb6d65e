import {
  ANY,
  type ExpectedVersion,
  matchesExpectedVersion,
  type NewEvent,
  planAppend,
  STREAM_EXISTS,
  type StreamRef,
} from '@strata/core';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';
import { findStoredByIds, streamVersion } from './stream-reads.ts';

/**
 * Writers that append wherever the stream ends (`ANY`, `STREAM_EXISTS`) would keep colliding on
 * a busy stream: they queue on a lock per stream instead. Exact expected versions (every push)
 * stay optimistic: the unique indexes catch a writer that got in between.
 */
export function locksStream(expectedVersion: ExpectedVersion): boolean {
  return expectedVersion === ANY || expectedVersion === STREAM_EXISTS;
}

/**
 * Stored ids only matter when the version does not fit (a retry, or a conflict) or a writer
 * raced this one; otherwise a reused id is caught by the unique index, and the lookup is saved.
 */
export function looksUpStoredIds(
  expectedVersion: ExpectedVersion,
  currentVersion: number,
  raced: boolean,
): boolean {
  return raced || !matchesExpectedVersion(expectedVersion, currentVersion);
}

/** An append decided inside its transaction, and the stream's version it was decided at. */
export interface StreamAppendPlan {
  readonly plan: ReturnType<typeof planAppend>;
  readonly currentVersion: number;
}

/**
 * Decides an append inside its transaction `tx`: takes the stream's lock when `locksStream`
 * says so, reads the stream's version, looks up stored ids when `looksUpStoredIds` says so, and
 * hands all of it to core's `planAppend` (append from a version, confirm a retry, or a typed
 * conflict). `raced`: an earlier try of this append lost to a concurrent writer.
 */
export async function planStreamAppend(
  tx: SqlExecutor,
  tenant: string,
  stream: StreamRef,
  events: readonly NewEvent[],
  expectedVersion: ExpectedVersion,
  raced: boolean,
): Promise<StreamAppendPlan> {
  if (locksStream(expectedVersion)) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      JSON.stringify([tenant, stream.aggregateType, stream.aggregateId]),
    ]);
  }
  const currentVersion = await streamVersion(tx, tenant, stream);
  const byId = looksUpStoredIds(expectedVersion, currentVersion, raced)
    ? await findStoredByIds(
        tx,
        tenant,
        events.map((event) => event.id),
      )
    : new Map<string, PostgresStoredEvent>();
  const plan = planAppend({
    stream,
    events,
    expectedVersion,
    currentVersion,
    findStored: (id) => byId.get(id),
  });
  return { plan, currentVersion };
}
