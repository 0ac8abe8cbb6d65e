import { applyInlineProjections, type InlineProjection } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import type { AppendContext, AppendHook } from '../postgres/append-hook.ts';

/**
 * Runs inline projections inside every append's transaction, on each event they receive
 * (decoded with the projection's aggregate): their tables commit with the events or not at all.
 * A throw rejects the commit.
 *
 * @example
 * createSyncApp({ database, authenticate, appendHooks: [inlineProjections([todoCounts])] });
 */
export function inlineProjections(
  projections: readonly InlineProjection<AppendContext>[],
): AppendHook {
  // Hooks see events as stored: encrypted streams are opened here, inside the transaction.
  return async (stored, context) =>
    applyInlineProjections(
      projections,
      await decryptStoredEvents(context.transaction, stored),
      context,
    );
}
