import { applyInlineProjections, type InlineProjection } from '@strata/core';
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
  return (events, context) => applyInlineProjections(projections, events, context);
}
