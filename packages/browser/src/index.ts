export * from './database/storage-errors.ts';
export * from './database/strata-database.ts';
export * from './event-store/dexie-event-store.ts';
export * from './event-store/strata-transaction.ts';
