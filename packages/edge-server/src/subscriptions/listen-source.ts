import type { PGlite } from '@electric-sql/pglite';
import type { Client } from '@neondatabase/serverless';
import { EVENTS_CHANNEL } from '../migrations/migrations.ts';

/**
 * Wakes a reader when any instance appends (Postgres LISTEN/NOTIFY). Resolves to a function
 * that stops listening. Where a listening connection cannot be held, the reader polls instead.
 */
export type ListenSource = (onNotify: () => void) => Promise<() => Promise<void>>;

/**
 * LISTEN on a dedicated Neon driver `Client` (WebSocket connection held open).
 *
 * @example
 * createSyncApp({ database, authenticate, listen: neonListen(() => new Client(env.DATABASE_URL)) });
 */
export function neonListen(connect: () => Client): ListenSource {
  return async (onNotify) => {
    const client = connect();
    // A lost listening connection must not take the server down: the reader keeps polling.
    client.on('error', () => undefined);
    await client.connect();
    client.on('notification', () => onNotify());
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    return async () => {
      await client.end();
    };
  };
}

/** LISTEN inside an embedded PGlite. */
export function pgliteListen(pglite: PGlite): ListenSource {
  return async (onNotify) => pglite.listen(EVENTS_CHANNEL, () => onNotify());
}
