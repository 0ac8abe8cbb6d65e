import type { AnyAggregateDefinition, PullResponse } from '@strata/core';
import type { Strata } from '../runtime/create-strata.ts';

/** An event as the server sent it: stored upstream, with its server position. */
export type UpstreamEvent = PullResponse['events'][number];

/** What the sync steps (push, upstream, rebase) share. */
export interface SyncContext {
  readonly strata: Strata;
  /** Aggregate definitions by type: a rebase re-runs their commands. */
  readonly aggregates: ReadonlyMap<string, AnyAggregateDefinition>;
  readonly clock: () => Date;
  readonly newId: () => string;
}
