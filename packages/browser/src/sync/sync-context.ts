import type { AnyAggregateDefinition, PullResponse } from '@strata/core';
import type { Strata } from '../runtime/create-strata.ts';

/** An event as the server sent it: stored upstream, with its server position. */
export type UpstreamEvent = PullResponse['events'][number];

/** Stores a batch of the server's events and advances the cursor to `cursor`, in one go. */
export type ApplyUpstreamBatch = (
  events: readonly UpstreamEvent[],
  cursor: string,
) => Promise<void>;

/** What the sync steps (push, upstream, rebase) share. */
export interface SyncContext {
  readonly strata: Strata;
  /** Aggregate definitions by type: a rebase re-runs their commands. */
  readonly aggregates: ReadonlyMap<string, AnyAggregateDefinition>;
  readonly clock: () => Date;
  readonly newId: () => string;
}

/** The context of a sync session of `strata` that rebases commands of `aggregates`. */
export function syncContext(
  strata: Strata,
  aggregates: readonly AnyAggregateDefinition[],
  newId: () => string,
): SyncContext {
  return {
    strata,
    aggregates: new Map(aggregates.map((aggregate) => [aggregate.type, aggregate])),
    clock: strata.clock,
    newId,
  };
}
