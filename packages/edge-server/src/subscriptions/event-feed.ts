import {
  decodeGlobalCursor,
  encodeGlobalCursor,
  type GlobalCursor,
} from '../postgres/global-cursor.ts';
import { globalOrderTail, readGlobalOrder } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
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
    const readingFor = generation;
    if (head === undefined) return;
    for (;;) {
      const page = await readGlobalOrder(options.database, {
        after: encodeGlobalCursor(head),
        limit: 500,
      });
      // Stopped meanwhile: no listener is owed this page, and the stop's reset head stays.
      if (readingFor !== generation) return;
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
    const readingFor = generation;
    reading = readNew()
      .catch((error: unknown) => {
        // A read that outlived a stop (e.g. the database closing under it) is nobody's error.
        if (readingFor === generation) options.onError?.(error);
      })
      .finally(() => {
        reading = undefined;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  // Start and stop are asynchronous (the tail query, LISTEN) while subscribers come and go: a
  // generation number lets a stop win over a start still in flight, and `joining` counts the
  // subscribers waiting for a start, so the feed does not stop under them.
  let generation = 0;
  let started: Promise<void> | undefined;
  let joining = 0;

  async function start(current: number): Promise<void> {
    // Live delivery starts at the current end of the order; subscribers catch up on their own.
    const tail = decodeGlobalCursor(await globalOrderTail(options.database));
    if (current !== generation) return;
    head = tail;
    poll = setInterval(wake, options.pollIntervalMs ?? 1000);
    if (options.listen !== undefined) {
      stopListening = options.listen(wake).then(
        (unlisten) => {
          // Commits between the tail read and LISTEN taking effect notified nobody: read once.
          wake();
          return unlisten;
        },
        (error: unknown) => {
          options.onError?.(error);
          return undefined;
        },
      );
    }
  }

  /** Stops reading now; only the listening connection is closed asynchronously. */
  async function stop(): Promise<void> {
    generation++;
    started = undefined;
    if (poll !== undefined) clearInterval(poll);
    poll = undefined;
    head = undefined;
    const listening = stopListening;
    stopListening = undefined;
    const unlisten = await listening;
    await unlisten?.();
  }

  return {
    async subscribe(tenant, listener) {
      joining++;
      try {
        started ??= start(generation).catch((error: unknown) => {
          started = undefined;
          throw error;
        });
        await started;
      } finally {
        joining--;
      }
      const set = listeners.get(tenant) ?? new Set();
      set.add(listener);
      listeners.set(tenant, set);
      return {
        unsubscribe() {
          if (!set.delete(listener)) return;
          if (set.size === 0 && listeners.get(tenant) === set) listeners.delete(tenant);
          if (subscriberCount() === 0 && joining === 0) void stop();
        },
      };
    },
    wake,
    close: stop,
  };
}
