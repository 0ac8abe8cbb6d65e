export * from './strata-context.ts';
export * from './use-aggregate-state.ts';
export * from './use-execute.ts';
export * from './use-history.ts';
export * from './use-live-query.ts';
export * from './use-rejected-commands.ts';
export * from './use-sync-status.ts';
