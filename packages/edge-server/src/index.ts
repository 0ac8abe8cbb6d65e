export * from './migrations/migrations.ts';
export * from './postgres/global-cursor.ts';
export * from './postgres/neon-database.ts';
export * from './postgres/pglite-database.ts';
export * from './postgres/postgres-event-store.ts';
export * from './postgres/sql-database.ts';
