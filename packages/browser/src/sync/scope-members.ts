// The device's scope rows (`scopeMembers`, scoped sync): which held scopes hold each aggregate,
// and the `LEAVING` mark of one kept only until its pending commands are answered. Read for a
// whole batch of aggregates in one request, never one request per aggregate.
import { type StreamRef, streamKey } from '@strata/core';
import type { StrataDatabase } from '../database/strata-database.ts';

/**
 * The `scopeMembers` scope of an aggregate that left the device's scopes while it had pending
 * commands: it stays until the server answered them (not a scope key: those never start with `!`).
 */
export const LEAVING = '!leaving';

/** What the scope rows say of one aggregate that has any. */
export interface Membership {
  /** The held scopes that hold it. */
  readonly scopes: readonly string[];
  /** Marked `LEAVING`. */
  readonly leaving: boolean;
}

/** The membership of each of `streams` that has scope rows, by stream key. */
export async function membershipsOf(
  db: StrataDatabase,
  streams: readonly StreamRef[],
): Promise<Map<string, Membership>> {
  const found = new Map<string, { scopes: string[]; leaving: boolean }>();
  if (streams.length === 0) return found;
  const rows = await db.scopeMembers
    .where('[aggregateType+aggregateId]')
    .anyOf(streams.map((stream) => [stream.aggregateType, stream.aggregateId]))
    .toArray();
  for (const row of rows) {
    const key = streamKey(row);
    let membership = found.get(key);
    if (membership === undefined) {
      membership = { scopes: [], leaving: false };
      found.set(key, membership);
    }
    if (row.scope === LEAVING) membership.leaving = true;
    else membership.scopes.push(row.scope);
  }
  return found;
}

/** The stream keys of those of `streams` with pending commands. */
export async function withPendingCommands(
  db: StrataDatabase,
  streams: readonly StreamRef[],
): Promise<Set<string>> {
  if (streams.length === 0) return new Set();
  // The index keys only: the commands themselves are not needed.
  const keys = (await db.commands
    .where('[aggregateType+aggregateId]')
    .anyOf(streams.map((stream) => [stream.aggregateType, stream.aggregateId]))
    .keys()) as unknown as [string, string][];
  return new Set(
    keys.map(([aggregateType, aggregateId]) => streamKey({ aggregateType, aggregateId })),
  );
}
