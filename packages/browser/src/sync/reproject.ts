import type { StreamRef } from '@strata/core';
import { applyInlineProjections } from '@strata/core';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { rebuildProjections } from '../runtime/rebuild-projections.ts';
import type { SyncContext } from './sync-context.ts';

/**
 * Brings the projections in line after rebases rewrote some aggregates' pending events, inside
 * the caller's transaction. Projections that can `forget` one aggregate are replayed for just
 * the rebased aggregates; if any projection cannot, all of them are rebuilt from the log, since
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
  for (const stream of streams) {
    const events = await context.strata.store.readStream(stream);
    const forgetting = concerned(stream);
    for (const projection of forgetting) await projection.forget?.(stream, transaction);
    await applyInlineProjections(forgetting, events, transaction);
  }
}
