// Live delivery for scoped subscriptions on top of the instance's one event feed. An event does
// not say which scopes it touches (that is the membership fold's result, written as scope rows),
// so per tenant ONE listener collects what the feed delivers and asks, once per batch and for
// all scoped subscribers of the instance together, which of their scopes have rows at those
// positions. A subscriber hears only of events that touch its scopes; the rest cost it nothing.
import { TENANT_SCOPE_NAME } from '@strata/core';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { EventFeed } from './event-feed.ts';

/** Hears of a live event of its tenant that touches one of its scopes. */
export type ScopeFeedListener = (event: PostgresStoredEvent) => void;

/** Live events per scope, for all scoped subscriptions of one instance. */
export interface ScopeFeed {
  /**
   * Starts delivering `tenant`'s events committed from now on that touch one of `scopes`: an
   * event in one of them, or one that moves an aggregate into or out of one (a row at the
   * event's position). With `tenant` among them, every event of the tenant.
   */
  subscribe(
    tenant: string,
    scopes: readonly string[],
    listener: ScopeFeedListener,
  ): Promise<{ unsubscribe(): void }>;
}

/** Options of `createScopeFeed`. */
export interface ScopeFeedOptions {
  readonly feed: EventFeed;
  readonly database: SqlExecutor;
  /** Where a failed lookup is reported (its batch then goes to every subscriber: they read). */
  readonly onError?: (error: unknown) => void;
}

interface Subscriber {
  readonly scopes: ReadonlySet<string>;
  readonly everything: boolean;
  readonly listener: ScopeFeedListener;
}

interface Tap {
  readonly subscribers: Set<Subscriber>;
  pending: PostgresStoredEvent[];
  flushing: boolean;
  feed: Promise<{ unsubscribe(): void }> | undefined;
}

/**
 * Delivery order is the feed's. A batch goes to the subscribers registered when its lookup
 * starts, with their scopes in the lookup: a subscriber registered later hears of the batch's
 * events only if they came after it registered (they are in a later batch); the others were
 * committed before it registered, so its catch-up reads them.
 *
 * @example
 * const scopeFeed = createScopeFeed({ feed, database });
 * await scopeFeed.subscribe('acme', ['project:{"projectId":"p1"}'], (event) => readOn(event));
 */
export function createScopeFeed(options: ScopeFeedOptions): ScopeFeed {
  const taps = new Map<string, Tap>();

  /** Per position of `events`, the scopes of `keys` with a row at that position. */
  async function touched(tenant: string, keys: readonly string[], events: PostgresStoredEvent[]) {
    const byPosition = new Map<number, Set<string>>();
    if (keys.length === 0) return byPosition;
    // Every scope touched at p has a row (S, p, p): the event's own, or its `left` row. Probed
    // through the primary key (tenant, scope, eff, tenant_position).
    const { rows } = await options.database.query<{ scope: string; eff: string | number }>(
      `SELECT scope, eff FROM strata_scope_rows
       WHERE tenant = $1 AND scope = ANY($2::text[]) AND eff = ANY($3::bigint[])
         AND tenant_position = eff`,
      [tenant, keys, events.map((event) => event.tenantPosition)],
    );
    for (const row of rows) {
      const position = Number(row.eff);
      const scopes = byPosition.get(position) ?? new Set<string>();
      scopes.add(row.scope);
      byPosition.set(position, scopes);
    }
    return byPosition;
  }

  async function flush(tenant: string, tap: Tap): Promise<void> {
    tap.flushing = true;
    try {
      while (tap.pending.length > 0) {
        const batch = tap.pending;
        tap.pending = [];
        const subscribers = [...tap.subscribers];
        const keys = new Set<string>();
        for (const subscriber of subscribers) {
          if (!subscriber.everything) for (const key of subscriber.scopes) keys.add(key);
        }
        let byPosition: Map<number, Set<string>> | undefined;
        try {
          byPosition = await touched(tenant, [...keys], batch);
        } catch (error) {
          // Unknown which scopes were touched: every subscriber reads (a read finds what is new).
          options.onError?.(error);
        }
        for (const event of batch) {
          const scopes = byPosition?.get(event.tenantPosition);
          for (const subscriber of subscribers) {
            if (!tap.subscribers.has(subscriber)) continue;
            const touches =
              subscriber.everything ||
              byPosition === undefined ||
              (scopes !== undefined && [...scopes].some((scope) => subscriber.scopes.has(scope)));
            if (touches) subscriber.listener(event);
          }
        }
      }
    } finally {
      tap.flushing = false;
    }
  }

  function tapFor(tenant: string): Tap {
    const existing = taps.get(tenant);
    if (existing !== undefined) return existing;
    const tap: Tap = { subscribers: new Set(), pending: [], flushing: false, feed: undefined };
    taps.set(tenant, tap);
    tap.feed = options.feed.subscribe(tenant, (event) => {
      tap.pending.push(event);
      // The feed hands over a whole page synchronously: look it up as one batch.
      if (!tap.flushing && tap.pending.length === 1) {
        tap.flushing = true;
        queueMicrotask(() => void flush(tenant, tap));
      }
    });
    return tap;
  }

  function release(tenant: string, tap: Tap): void {
    if (tap.subscribers.size > 0) return;
    if (taps.get(tenant) === tap) taps.delete(tenant);
    void tap.feed?.then(
      (subscription) => subscription.unsubscribe(),
      () => undefined,
    );
  }

  return {
    async subscribe(tenant, scopes, listener) {
      const tap = tapFor(tenant);
      const subscriber: Subscriber = {
        scopes: new Set(scopes),
        everything: scopes.includes(TENANT_SCOPE_NAME),
        listener,
      };
      tap.subscribers.add(subscriber);
      try {
        await tap.feed;
      } catch (error) {
        tap.subscribers.delete(subscriber);
        if (taps.get(tenant) === tap) taps.delete(tenant); // the next subscriber tries again
        throw error;
      }
      return {
        unsubscribe() {
          if (!tap.subscribers.delete(subscriber)) return;
          release(tenant, tap);
        },
      };
    },
  };
}
