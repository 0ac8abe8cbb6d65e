export * from './database/storage-errors.ts';
export * from './database/strata-database.ts';
export * from './event-store/dexie-event-store.ts';
export * from './event-store/strata-transaction.ts';
export * from './runtime/create-strata.ts';
export * from './runtime/live-state.ts';
export * from './runtime/load-all.ts';
export * from './runtime/rebuild-projections.ts';
