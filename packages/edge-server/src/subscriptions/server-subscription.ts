import { createWakeSignal } from '@strata/core';
import { globalOrderTail, readGlobalOrder } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { ListenSource } from './listen-source.ts';

/** Options of `subscribeToEvents`; defaults are applied here, once. */
export interface ServerSubscriptionOptions {
  readonly database: SqlExecutor;
  /** Only this tenant's events; every tenant's when absent. */
  readonly tenant?: string;
  /**
   * Where to start: `'start'` (the default) catches up from the first event, `{ after: cursor }`
   * from a stored position (an event's `cursor`), `'now'` is volatile: live events only.
   */
  readonly from?: 'start' | 'now' | { readonly after: string };
  /** LISTEN/NOTIFY (`neonListen`, `pgliteListen`): new events arrive at once instead of at the next poll. */
  readonly listen?: ListenSource;
  /** How often to look for new events once caught up. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Events per read. Defaults to 500. */
  readonly batchSize?: number;
}

/**
 * A catch-up (or volatile) subscription for server code: the no-skip global order from a
 * position, then live, as an async iterator. Each event carries its `cursor`: store it to resume
 * after a restart. Leaving the `for await` loop stops it. For competing consumers with a
 * checkpoint kept in Postgres, use a consumer group instead.
 *
 * @example
 * for await (const event of subscribeToEvents({ database, from: { after: saved }, listen })) {
 *   await handle(event);
 *   saved = event.cursor;
 * }
 */
export async function* subscribeToEvents(
  options: ServerSubscriptionOptions,
): AsyncGenerator<PostgresStoredEvent, void, undefined> {
  const { database, from = 'start', pollIntervalMs = 1000, batchSize = 500 } = options;
  let after =
    from === 'now'
      ? await globalOrderTail(database, options.tenant)
      : from === 'start'
        ? undefined
        : from.after;
  // A notification during a read is kept by the signal: the next sleep returns at once.
  const newEvents = createWakeSignal();
  const stopListening = await options.listen?.(() => newEvents.wake());
  try {
    for (;;) {
      const page = await readGlobalOrder(database, {
        ...(after === undefined ? {} : { after }),
        limit: batchSize,
        ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      });
      yield* page.events; // decrypted (or forgotten) by readGlobalOrder
      after = page.cursor;
      // Caught up: wait for a notification or the next poll.
      if (!page.hasMore) await newEvents.sleep(pollIntervalMs);
    }
  } finally {
    await stopListening?.();
  }
}
