// The devtools panel: drop it into any strata app (React).

// The same data without React: live values for a console or another framework.
export type { HistoryEntry, HistoryPage, HistoryQuery } from './aggregate-history.ts';
export type { CommandPage, CommandQuery } from './command-pages.ts';
export type { LogEntry, LogPage, LogQuery } from './event-log.ts';
export {
  type AggregateInspection,
  type InspectOptions,
  inspectStrata,
  type StrataInspector,
} from './inspect-strata.ts';
export type { UnreadablePage, UnreadableQuery } from './kept-unreadable.ts';
export {
  type DevtoolsTab,
  StrataDevtools,
  type StrataDevtoolsProps,
} from './panel/strata-devtools.ts';
