export * from './sync-reactors.ts';
