import type { StoredEvent } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import {
  created,
  projectKey,
  reassigned,
  renamed,
  scopedTaskStore,
  userKey,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { EventFeed, FeedListener } from './event-feed.ts';
import { createScopeFeed } from './scope-feed.ts';

const pglite = useMigratedPglite();

/** An event feed the test drives: it delivers a page of events synchronously, as the real one. */
function handFeed() {
  const listeners = new Map<string, Set<FeedListener>>();
  let subscriptions = 0;
  const feed: EventFeed = {
    async subscribe(tenant, listener) {
      subscriptions++;
      const set = listeners.get(tenant) ?? new Set();
      set.add(listener);
      listeners.set(tenant, set);
      return { unsubscribe: () => void set.delete(listener) };
    },
    wake: () => undefined,
    close: async () => undefined,
  };
  return {
    feed,
    // The Postgres store's appends return its stored events typed as plain ones.
    deliver(events: readonly StoredEvent[]) {
      for (const event of events as readonly PostgresStoredEvent[])
        for (const listener of listeners.get(event.tenant) ?? []) listener(event);
    },
    listening: (tenant: string) => listeners.get(tenant)?.size ?? 0,
    get subscriptions() {
      return subscriptions;
    },
  };
}

/** Counts the lookups of touched scopes, and can hold one back or fail it. */
function lookups(database: SqlExecutor) {
  let count = 0;
  let gate: Promise<void> | undefined;
  let fail = false;
  const executor: SqlExecutor = {
    async query(text, params) {
      count++;
      await gate;
      if (fail) throw new Error('lookup failed');
      return database.query(text, params);
    },
  };
  return {
    executor,
    count: () => count,
    hold() {
      let open: () => void = () => undefined;
      gate = new Promise((resolve) => {
        open = resolve;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
    failNext: (value: boolean) => {
      fail = value;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const ids = (events: PostgresStoredEvent[]) =>
  events.map((e) => `${e.aggregateId}@${e.tenantPosition}`);
let tenants = 0;

describe('createScopeFeed', () => {
  it('looks up a delivered page once for all subscribers; each hears only events touching its scopes', async () => {
    const tenant = `feed-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    const hand = handFeed();
    const lookup = lookups(db);
    const scopeFeed = createScopeFeed({ feed: hand.feed, database: lookup.executor });
    const heard = {
      p1: [] as PostgresStoredEvent[],
      ann: [] as PostgresStoredEvent[],
      all: [] as PostgresStoredEvent[],
    };
    const subscriptions = await Promise.all([
      scopeFeed.subscribe(tenant, [projectKey('p1')], (e) => heard.p1.push(e)),
      scopeFeed.subscribe(tenant, [userKey('ann')], (e) => heard.ann.push(e)),
      scopeFeed.subscribe(tenant, ['tenant'], (e) => heard.all.push(e)),
    ]);
    expect(hand.subscriptions).toBe(1); // one feed listener per tenant

    const appended = [
      ...(await tasks.append('a', created('p1', 'bob'))).events, // 1: p1
      ...(await tasks.append('b', created('p2', 'bob'))).events, // 2: neither
      ...(await tasks.append('b', reassigned('ann'))).events, // 3: b joins ann
      ...(await tasks.append('a', renamed('x'))).events, // 4: p1
      ...(await tasks.append('b', reassigned('bob'))).events, // 5: b leaves ann
    ];
    hand.deliver(appended);
    await settle();
    expect(lookup.count()).toBe(1);
    expect(ids(heard.p1)).toEqual(['a@1', 'a@4']);
    expect(ids(heard.ann)).toEqual(['b@3', 'b@5']);
    expect(ids(heard.all)).toEqual(['a@1', 'b@2', 'b@3', 'a@4', 'b@5']);

    for (const subscription of subscriptions) subscription.unsubscribe();
    await settle();
    expect(hand.listening(tenant)).toBe(0); // the last one leaving lets go of the feed
  });

  it('a subscriber joining during a lookup hears the later batches, not the earlier (its catch-up reads those)', async () => {
    const tenant = `feed-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    const hand = handFeed();
    const lookup = lookups(db);
    const scopeFeed = createScopeFeed({ feed: hand.feed, database: lookup.executor });
    const first: PostgresStoredEvent[] = [];
    const late: PostgresStoredEvent[] = [];
    await scopeFeed.subscribe(tenant, [projectKey('p1')], (e) => first.push(e));
    const open = lookup.hold();
    hand.deliver((await tasks.append('a', created('p1', 'ann'))).events);
    await settle(); // the lookup of that batch is waiting
    const joined = scopeFeed.subscribe(tenant, [projectKey('p1')], (e) => late.push(e));
    await joined;
    hand.deliver((await tasks.append('a', renamed('y'))).events);
    open();
    await settle();
    expect(ids(first)).toEqual(['a@1', 'a@2']);
    expect(ids(late)).toEqual(['a@2']);
  });

  it('a failed lookup hands the batch to every subscriber (they read; none misses an event)', async () => {
    const tenant = `feed-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    const hand = handFeed();
    const lookup = lookups(db);
    const errors: unknown[] = [];
    const scopeFeed = createScopeFeed({
      feed: hand.feed,
      database: lookup.executor,
      onError: (error) => errors.push(error),
    });
    const heard: PostgresStoredEvent[] = [];
    await scopeFeed.subscribe(tenant, [projectKey('p9')], (e) => heard.push(e));
    lookup.failNext(true);
    hand.deliver((await tasks.append('a', created('p1', 'ann'))).events);
    await settle();
    expect(ids(heard)).toEqual(['a@1']);
    expect(errors).toHaveLength(1);
  });
});
