import type { InlineProjection, StoredEvent } from '@strata/core';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

/**
 * Runs stored events through the inline projections, in order, decoding (and upcasting) each event
 * through its projection's aggregate: the events come from the log, written by any app version.
 * Used by rebuilds and by sync for upstream and rebased events.
 */
export async function applyProjections(
  projections: readonly InlineProjection<StrataTransaction>[],
  events: readonly StoredEvent[],
  transaction: StrataTransaction,
): Promise<void> {
  for (const stored of events) {
    for (const projection of projections) {
      const aggregate = projection.aggregate;
      if (aggregate !== undefined && aggregate.type !== stored.aggregateType) continue;
      const event: StoredEvent = aggregate === undefined ? stored : aggregate.events.decode(stored);
      await projection.apply(event, transaction);
    }
  }
}
