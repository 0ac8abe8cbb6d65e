// @strata/browser: the Dexie event store and local runtime arrive with issue #3.
export {};
