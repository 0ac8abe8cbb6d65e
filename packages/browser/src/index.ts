// The local runtime: commands offline, state and projections from IndexedDB, live queries.
export type {
  EventRow,
  PendingCommandRow,
  RejectedCommandRow,
  ScopeMemberRow,
  StrataDatabase,
  StrataDatabaseOptions,
  SyncStateRow,
  UnreadableEventRow,
} from './database/strata-database.ts';
export type { DexieEventStore } from './event-store/dexie-event-store.ts';
export type { StrataTransaction } from './event-store/strata-transaction.ts';
export { createStrata, type Strata, type StrataOptions } from './runtime/create-strata.ts';
export type { AggregateState, LiveSubscribable, RecentStates } from './runtime/live-state.ts';
export type { RebuildOptions, RebuildProgress } from './runtime/rebuild-projections.ts';

// Sync with the edge server: one syncing tab per device, its status shared with the others.
export type { LockManagerLike } from './sync/leader-lock.ts';
export type { ScopesStatus } from './sync/scope-set.ts';
export {
  SYNC_DEFAULTS,
  type SyncClient,
  type SyncOptions,
  startSync,
} from './sync/start-sync.ts';
export type { SyncActivityEntry, SyncActivityKind } from './sync/sync-activity.ts';
export type {
  CatchUpProgress,
  ConnectionState,
  Rebootstrap,
  SyncError,
  SyncStatus,
} from './sync/sync-status.ts';

// Version skew: events a newer app version wrote, kept unapplied, and the aggregates they hold.
export {
  liveUnreadableEvents,
  type UnreadableStatus,
  type UnreadableType,
} from './sync/unreadable-events.ts';
export { AggregateHeldError } from './unreadable/held-aggregates.ts';
