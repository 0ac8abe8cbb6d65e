export * from './command-handler.ts';
export * from './load-aggregate.ts';
export * from './prepare-command.ts';
