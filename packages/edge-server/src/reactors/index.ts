export * from './async-reactors.ts';
export * from './sync-reactors.ts';
