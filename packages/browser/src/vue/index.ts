// Giving components the runtime and the sync client.
export {
  createStrataPlugin,
  provideStrata,
  type StrataBinding,
  useStrata,
  useSyncClient,
} from './strata-plugin.ts';

// Reading live state, history and queries; running commands.
export { useAggregateState } from './use-aggregate-state.ts';
export { useExecute } from './use-execute.ts';
export { useHistory } from './use-history.ts';
export { useLiveQuery } from './use-live-query.ts';

// What the sync loop says: status and commands the server refused.
export { type RejectedCommands, useRejectedCommands } from './use-rejected-commands.ts';
export { useSyncStatus } from './use-sync-status.ts';
