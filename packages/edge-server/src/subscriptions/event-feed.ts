import {
  decodeGlobalCursor,
  encodeGlobalCursor,
  type GlobalCursor,
} from '../postgres/global-cursor.ts';
import {
  globalOrderTail,
  type PostgresStoredEvent,
  readGlobalOrder,
} from '../postgres/postgres-event-store.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { ListenSource } from './listen-source.ts';

/** Receives the live events of one tenant, in global order. */
export type FeedListener = (event: PostgresStoredEvent) => void;

/** One reader per server instance, feeding all of its subscribers. */
export interface EventFeed {
  /** Starts delivering `tenant`'s events committed from now on. */
  subscribe(tenant: string, listener: FeedListener): Promise<{ unsubscribe(): void }>;
  /** Reads now rather than at the next notification or poll (e.g. after a local append). */
  wake(): void;
  close(): Promise<void>;
}

/** Options of `createEventFeed`. */
export interface EventFeedOptions {
  readonly database: SqlExecutor;
  /** LISTEN/NOTIFY wake-ups; without it, only polling. */
  readonly listen?: ListenSource;
  /** Poll interval, the fallback when notifications are missed or unavailable. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Where read failures are reported (the reader retries at the next wake). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The per-instance reader: however many subscribers, one query per wake-up reads the new part of
 * the no-skip global order for all tenants and hands each event to that tenant's listeners. It
 * runs only while someone subscribes.
 */
export function createEventFeed(options: EventFeedOptions): EventFeed {
  const listeners = new Map<string, Set<FeedListener>>();
  let head: GlobalCursor | undefined;
  let reading: Promise<void> | undefined;
  let again = false;
  let poll: ReturnType<typeof setInterval> | undefined;
  let stopListening: Promise<(() => Promise<void>) | undefined> | undefined;

  const subscriberCount = () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0);

  async function readNew(): Promise<void> {
    if (head === undefined) return;
    for (;;) {
      const page = await readGlobalOrder(options.database, {
        after: encodeGlobalCursor(head),
        limit: 500,
      });
      for (const event of page.events) {
        for (const listener of listeners.get(event.tenant) ?? []) listener(event);
      }
      head = decodeGlobalCursor(page.cursor);
      if (!page.hasMore) return;
    }
  }

  function wake(): void {
    if (reading !== undefined) {
      again = true; // a commit may have landed after this read's snapshot: read once more
      return;
    }
    reading = readNew()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        reading = undefined;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  async function start(): Promise<void> {
    // Live delivery starts at the current end of the order; subscribers catch up on their own.
    head ??= decodeGlobalCursor(await globalOrderTail(options.database));
    poll = setInterval(wake, options.pollIntervalMs ?? 1000);
    if (options.listen !== undefined) {
      stopListening = options.listen(wake).catch((error: unknown) => {
        options.onError?.(error);
        return undefined;
      });
    }
  }

  async function stop(): Promise<void> {
    if (poll !== undefined) clearInterval(poll);
    poll = undefined;
    const unlisten = await stopListening;
    stopListening = undefined;
    await unlisten?.();
    head = undefined;
  }

  return {
    async subscribe(tenant, listener) {
      if (subscriberCount() === 0 && poll === undefined) await start();
      const set = listeners.get(tenant) ?? new Set();
      set.add(listener);
      listeners.set(tenant, set);
      return {
        unsubscribe() {
          set.delete(listener);
          if (set.size === 0) listeners.delete(tenant);
          if (subscriberCount() === 0) void stop();
        },
      };
    },
    wake,
    close: stop,
  };
}
