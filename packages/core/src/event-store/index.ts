export * from './append-plan.ts';
export * from './event-store.ts';
export * from './expected-version.ts';
export * from './expected-version-check.ts';
export * from './in-memory-event-store.ts';
export * from './position-cursor.ts';
export * from './stream-ref.ts';
