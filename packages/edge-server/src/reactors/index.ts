// @strata/edge-server/reactors: core's reactors on the server.

// Async reactors: after commit, at least once, as outbox destinations (routes and sinks).
export { type AsyncReactorOutbox, asyncReactorOutbox } from './async-reactors.ts';
// Sync reactors: inside the append's transaction; a throw rejects the commit.
export { type ServerSyncReactor, syncReactors } from './sync-reactors.ts';
