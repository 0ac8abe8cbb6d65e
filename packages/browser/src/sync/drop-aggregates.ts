// Scoped sync keeps an aggregate on the device while a held scope holds it (a `scopeMembers`
// row). When none does any more, the aggregate is dropped: events, snapshot, projection rows.
import { type StreamRef, streamKey } from '@strata/core';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { reproject } from './reproject.ts';
import { LEAVING, membershipsOf, withPendingCommands } from './scope-members.ts';
import type { SyncContext } from './sync-context.ts';

/** Why a pending command on a dropped aggregate is rejected. */
const OUT_OF_SCOPE_REASON =
  'The aggregate is no longer in a scope this device holds; the command was not sent';

/**
 * Removes aggregates the device may no longer hold, inside the caller's read-write transaction
 * over all tables: their events, snapshot, scope rows and projection rows go, and their pending
 * commands move to the rejected list as `FORBIDDEN`: the user sees what did not reach the
 * server instead of losing it silently.
 */
export async function dropAggregates(
  context: SyncContext,
  streams: readonly StreamRef[],
  transaction: StrataTransaction,
  reason = OUT_OF_SCOPE_REASON,
): Promise<RejectedCommandRow[]> {
  const { db } = context.strata;
  if (streams.length === 0) return [];
  const rejectedAt = context.clock().toISOString();
  const rejected: RejectedCommandRow[] = [];
  for (const stream of streams) {
    const ref: [string, string] = [stream.aggregateType, stream.aggregateId];
    await db.events
      .where('[aggregateType+aggregateId+version]')
      .between(...streamRange(stream), true, true)
      .delete();
    // Kept-unreadable events go with the rest of the aggregate's events.
    await db.unreadable
      .where('[aggregateType+aggregateId+version]')
      .between(...streamRange(stream), true, true)
      .delete();
    await db.snapshots.delete(ref);
    await db.bases.delete(ref);
    await db.scopeMembers.where('[aggregateType+aggregateId]').equals(ref).delete();
    const commands = await db.commands
      .where('[aggregateType+aggregateId]')
      .equals(ref)
      .sortBy('seq');
    await db.commands.bulkDelete(commands.map((command) => command.seq as number));
    for (const { seq: _seq, ...command } of commands) {
      rejected.push({ ...command, code: 'FORBIDDEN', reason, rejectedAt });
    }
  }
  await db.rejected.bulkAdd(rejected);
  // Their events are gone: replaying them forgets their projection rows.
  await reproject(context, streams, transaction);
  return rejected;
}

/**
 * Lets go of aggregates no held scope holds any more. With `rejectPending` (the user removed a
 * scope) they are dropped now, pending commands rejected. Without it (the server moved the
 * aggregate out, or refused the scope) one with pending commands stays, marked `LEAVING`, until
 * the server answered them: the command that moved it out may be this device's own, already
 * accepted; a refused one comes back as the server's own rejection. `sweepLeaving` then drops it.
 */
export async function releaseAggregates(
  context: SyncContext,
  streams: readonly StreamRef[],
  transaction: StrataTransaction,
  { rejectPending }: { readonly rejectPending: boolean },
): Promise<RejectedCommandRow[]> {
  const { db } = context.strata;
  const pending = rejectPending ? new Set<string>() : await withPendingCommands(db, streams);
  const kept = streams.filter((stream) => pending.has(streamKey(stream)));
  await db.scopeMembers.bulkPut(kept.map((stream) => ({ scope: LEAVING, ...refOf(stream) })));
  return dropAggregates(
    context,
    streams.filter((stream) => !pending.has(streamKey(stream))),
    transaction,
  );
}

/**
 * Settles aggregates marked `LEAVING`, inside the caller's transaction: one a held scope holds
 * again stays (the mark goes); one without pending commands any more is dropped.
 */
export async function sweepLeaving(
  context: SyncContext,
  transaction: StrataTransaction,
): Promise<void> {
  const { db } = context.strata;
  const marked = (await db.scopeMembers.where('scope').equals(LEAVING).toArray()).map(refOf);
  if (marked.length === 0) return;
  const memberships = await membershipsOf(db, marked);
  const held = marked.filter(
    (stream) => (memberships.get(streamKey(stream))?.scopes.length ?? 0) > 0,
  );
  await db.scopeMembers.bulkDelete(
    held.map((stream) => [LEAVING, stream.aggregateType, stream.aggregateId]),
  );
  const notHeld = marked.filter((stream) => !held.includes(stream));
  const pending = await withPendingCommands(db, notHeld);
  await dropAggregates(
    context,
    notHeld.filter((stream) => !pending.has(streamKey(stream))),
    transaction,
  );
}

/**
 * Takes scopes `keys` off the device, inside the caller's transaction: their scope rows go, and
 * the aggregates no other held scope holds are released (`releaseAggregates`).
 */
export async function dropScopes(
  context: SyncContext,
  keys: readonly string[],
  transaction: StrataTransaction,
  options: { readonly rejectPending: boolean },
): Promise<RejectedCommandRow[]> {
  const { db } = context.strata;
  if (keys.length === 0) return [];
  const members = await db.scopeMembers.where('scope').anyOf(keys).toArray();
  await db.scopeMembers.bulkDelete(
    members.map(
      (row) => [row.scope, row.aggregateType, row.aggregateId] as [string, string, string],
    ),
  );
  const unique = [...new Map(members.map((row) => [streamKey(row), refOf(row)])).values()];
  const memberships = await membershipsOf(db, unique);
  const orphans = unique.filter(
    (stream) => (memberships.get(streamKey(stream))?.scopes.length ?? 0) === 0,
  );
  return releaseAggregates(context, orphans, transaction, options);
}

function refOf(stream: StreamRef): StreamRef {
  return { aggregateType: stream.aggregateType, aggregateId: stream.aggregateId };
}
