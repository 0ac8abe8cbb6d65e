import { applyInlineProjections, type InlineProjection, type StoredEvent } from '@strata/core';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

/**
 * Runs stored events through the browser's inline projections (core's `applyInlineProjections`).
 * Used by rebuilds and by sync for upstream and rebased events.
 */
export function applyProjections(
  projections: readonly InlineProjection<StrataTransaction>[],
  events: readonly StoredEvent[],
  transaction: StrataTransaction,
): Promise<void> {
  return applyInlineProjections(projections, events, transaction);
}
