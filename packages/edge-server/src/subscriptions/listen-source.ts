import type { PGlite } from '@electric-sql/pglite';
import type { Client } from '@neondatabase/serverless';
import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import { toDatabaseError } from '../postgres/connection-errors.ts';

/**
 * Wakes a reader when any instance appends (Postgres LISTEN/NOTIFY). Resolves to a function
 * that stops listening. Where a listening connection cannot be held, the reader polls instead.
 */
export type ListenSource = (onNotify: () => void) => Promise<() => Promise<void>>;

/** How `neonListen` comes back after its connection is lost: 1 s, doubling up to 30 s. */
export const RELISTEN_DELAYS_MS = { first: 1_000, max: 30_000 } as const;

/**
 * LISTEN on a dedicated Neon driver `Client` (WebSocket connection held open). A lost listening
 * connection (database restarted, backend terminated) never takes the server down: it is
 * reported to `onError`, the reader is woken (it may have missed notifications and polls
 * meanwhile), and a new connection LISTENs again after `RELISTEN_DELAYS_MS`. A first connection
 * that fails rejects (as `UnavailableError` when the database is unreachable).
 *
 * @example
 * createSyncApp({ database, authenticate, listen: neonListen(() => new Client(env.DATABASE_URL)) });
 */
export function neonListen(
  connect: () => Client,
  onError?: (error: unknown) => void,
): ListenSource {
  return async (onNotify) => {
    let stopped = false;
    let current: Client | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delayMs: number = RELISTEN_DELAYS_MS.first;

    const open = async (): Promise<void> => {
      const client = connect();
      current = client;
      let ready = false;
      const lost = (error?: unknown) => {
        if (!ready || stopped) return; // before LISTEN, `open` itself fails
        ready = false;
        if (error !== undefined) onError?.(error);
        client.end().catch(() => undefined);
        onNotify(); // events may have landed while nobody listened
        again();
      };
      // Without an 'error' listener a dropped connection would crash the process.
      client.on('error', (error) => lost(error));
      client.on('end', () => lost());
      try {
        await client.connect();
        client.on('notification', () => onNotify());
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      } catch (error) {
        client.end().catch(() => undefined);
        throw toDatabaseError(error);
      }
      if (stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      ready = true;
      delayMs = RELISTEN_DELAYS_MS.first;
    };

    const again = () => {
      if (stopped) return;
      timer = setTimeout(() => {
        open().then(
          () => onNotify(),
          (error: unknown) => {
            onError?.(error);
            delayMs = Math.min(delayMs * 2, RELISTEN_DELAYS_MS.max);
            again();
          },
        );
      }, delayMs);
    };

    await open();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await current?.end().catch(() => undefined);
    };
  };
}

/** LISTEN inside an embedded PGlite. */
export function pgliteListen(pglite: PGlite): ListenSource {
  return async (onNotify) => pglite.listen(EVENTS_CHANNEL, () => onNotify());
}
