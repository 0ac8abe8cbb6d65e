export * from './command-handler.ts';
export * from './load-aggregate.ts';
export * from './prepare-command.ts';
export * from './projections.ts';
export * from './reactors.ts';
