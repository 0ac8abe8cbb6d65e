import { type AsyncReactor, decodedFor, receives } from '@strata/core';
import type { OutboxSink } from '../outbox/outbox-sink.ts';
import type { OutboxRoute } from '../outbox/outbox-writer.ts';

/** Async reactors as outbox routes (for `outboxWriter`) and sinks (for `createOutboxRelay`). */
export interface AsyncReactorOutbox {
  readonly routes: OutboxRoute[];
  readonly sinks: Record<string, OutboxSink>;
}

/**
 * Runs async reactors on the server after commit, durably: each reactor is an outbox
 * destination named after it, so the events it receives are recorded with the append and
 * delivered by the relay at least once, retried with backoff, dead-lettered per reactor. A
 * reactor limited to an aggregate gets only that aggregate's events.
 *
 * @example
 * const reactors = asyncReactorOutbox([sendWelcomeMail, notifyCompleted]);
 * const store = createPostgresEventStore(db, { tenant, appendHooks: [outboxWriter(reactors.routes)] });
 * const relay = createOutboxRelay({ database: db, sinks: reactors.sinks });
 */
export function asyncReactorOutbox(reactors: readonly AsyncReactor[]): AsyncReactorOutbox {
  const routes: OutboxRoute[] = [];
  const sinks: Record<string, OutboxSink> = {};
  for (const reactor of reactors) {
    if (reactor.name in sinks) throw new Error(`Two async reactors are named "${reactor.name}"`);
    routes.push({ destination: reactor.name, accepts: (event) => receives(reactor, event) });
    sinks[reactor.name] = (message, { signal }) =>
      reactor.react(decodedFor(reactor, message.event), { signal });
  }
  return { routes, sinks };
}
