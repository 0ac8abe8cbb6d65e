import {
  InternalError,
  type Snapshot,
  type StreamRef,
  safeParseSchema,
  streamKey,
} from '@strata/core';
import { projectBase } from '../bases/server-bases.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import type { SyncContext } from './sync-context.ts';

/**
 * Adopts the server snapshots of a scoped batch as the bases of their aggregates, inside the
 * caller's read-write transaction over all tables, BEFORE the batch's events are stored: the
 * server left out the events before each snapshot, so the aggregate starts from it (loading,
 * rebases and projections read the base). A snapshot is adopted only for an aggregate of which
 * this device holds no event, confirmed or pending: one that holds some (through another scope,
 * or its own commands) must not have its projections or pending commands set on a state that
 * may already contain them, and the events the snapshot stands for are filled in from the
 * server's history instead (history-holes.ts).
 *
 * A snapshot this app did not ask for (type or fingerprint) or whose state its schema refuses
 * throws: the batch is not stored, since its events would follow a gap nothing fills.
 */
export async function adoptBases(
  context: SyncContext,
  snapshots: readonly Snapshot[],
  transaction: StrataTransaction,
): Promise<StreamRef[]> {
  const { db, projections } = context.strata;
  const adopted: StreamRef[] = [];
  const latest = new Map<string, Snapshot>();
  for (const snapshot of snapshots) {
    const previous = latest.get(streamKey(snapshot));
    if (previous === undefined || previous.version < snapshot.version) {
      latest.set(streamKey(snapshot), snapshot);
    }
  }
  for (const snapshot of latest.values()) {
    checkUsable(context, snapshot);
    const stream = { aggregateType: snapshot.aggregateType, aggregateId: snapshot.aggregateId };
    const held = await db.events
      .where('[aggregateType+aggregateId+version]')
      .between(...streamRange(stream), true, true)
      .first();
    if (held !== undefined) continue;
    const base: Snapshot = {
      ...stream,
      version: snapshot.version,
      state: snapshot.state,
      fingerprint: snapshot.fingerprint,
      takenAt: snapshot.takenAt,
    };
    await db.bases.put(base);
    await projectBase(projections, base, transaction);
    adopted.push(stream);
  }
  return adopted;
}

function checkUsable(context: SyncContext, snapshot: Snapshot): void {
  const options = context.aggregates.get(snapshot.aggregateType)?.snapshots;
  const usable =
    options?.bootstrap === true &&
    options.fingerprint === snapshot.fingerprint &&
    safeParseSchema(options.schema, snapshot.state).success;
  if (!usable) {
    throw new InternalError(
      `The server sent a snapshot of ${snapshot.aggregateType}/${snapshot.aggregateId} this app cannot start from`,
    );
  }
}
