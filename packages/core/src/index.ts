export * from './aggregates/index.ts';
export * from './commands/index.ts';
export * from './errors/index.ts';
export * from './event-store/index.ts';
export * from './events/index.ts';
export * from './ids/index.ts';
export * from './protocol/index.ts';
export * from './snapshots/index.ts';
