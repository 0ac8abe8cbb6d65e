import { applyInlineProjections, type StreamRef, streamKey } from '@strata/core';
import { basesOf, coveredByBase, projectBase } from '../bases/server-bases.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { rebuildProjections } from '../runtime/rebuild-projections.ts';
import { beforeHold, holdsOf } from '../unreadable/held-aggregates.ts';
import type { SyncContext } from './sync-context.ts';

/**
 * Brings the projections in line after rebases rewrote some aggregates' pending events, inside
 * the caller's transaction. Projections that can `forget` one aggregate are replayed for just
 * the rebased aggregates (from their base, if they started from a server snapshot); if any projection cannot, all of them are rebuilt from the log, since
 * the rows a dropped event touched cannot be known otherwise.
 */
export async function reproject(
  context: SyncContext,
  streams: readonly StreamRef[],
  transaction: StrataTransaction,
): Promise<void> {
  const { db, projections, tables } = context.strata;
  if (streams.length === 0 || projections.length === 0) return;
  const concerned = (stream: StreamRef) =>
    projections.filter(
      (projection) =>
        projection.aggregate === undefined || projection.aggregate.type === stream.aggregateType,
    );
  if (streams.some((stream) => concerned(stream).some((p) => p.forget === undefined))) {
    await rebuildProjections(db, tables, projections);
    return;
  }
  const bases = await basesOf(db, streams);
  // A held aggregate is projected up to its hold (held-aggregates.ts).
  const holds = await holdsOf(db, streams);
  for (const stream of streams) {
    const events = await context.strata.store.readStream(stream);
    const forgetting = concerned(stream);
    for (const projection of forgetting) await projection.forget?.(stream, transaction);
    const base = bases.get(streamKey(stream));
    if (base !== undefined) await projectBase(forgetting, base, transaction);
    const after = events.filter(
      (event) => !coveredByBase(bases, event) && beforeHold(holds, event),
    );
    await applyInlineProjections(forgetting, after, transaction);
  }
}
