import {
  readServerSentEvents,
  ScopedSubscriptionMessageSchema,
  type StoredEvent,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import {
  created,
  moved,
  projectKey,
  reassigned,
  renamed,
  scopedTaskStore,
  userKey,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { createBoundedSseWriter } from './bounded-sse-writer.ts';
import type { ScopeFeed, ScopeFeedListener } from './scope-feed.ts';
import { streamScopedSubscription } from './scoped-subscription-stream.ts';

const pglite = useMigratedPglite();
const P1 = projectKey('p1');
const P2 = projectKey('p2');

/** A scope feed the test drives: it announces what it is told to, when it is told to. */
function handFeed() {
  const listeners = new Set<ScopeFeedListener>();
  const feed: ScopeFeed = {
    async subscribe(_tenant, _scopes, listener) {
      listeners.add(listener);
      return { unsubscribe: () => void listeners.delete(listener) };
    },
  };
  return {
    feed,
    // The Postgres store's appends return its stored events typed as plain ones.
    announce: (events: readonly StoredEvent[]) => {
      for (const event of events as readonly PostgresStoredEvent[]) {
        for (const listener of listeners) listener(event);
      }
    },
    get listening() {
      return listeners.size;
    },
  };
}

/** Counts the scope reads (read-scopes.ts's one statement). */
function counted(database: SqlDatabase) {
  let reads = 0;
  const db: SqlDatabase = {
    query(text, params) {
      if (text.includes('WITH horizon AS MATERIALIZED')) reads++;
      return database.query(text, params);
    },
    transaction: (work) => database.transaction(work),
  };
  return { db, reads: () => reads };
}

let tenants = 0;

describe('streamScopedSubscription', () => {
  it('catches up, then reads on only when the feed announces a position past what it read', async () => {
    const tenant = `stream-${tenants++}`;
    const { db, reads } = counted(pgliteDatabase(pglite()));
    const tasks = scopedTaskStore(db, tenant);
    await tasks.append('t1', created('p1', 'ann'));
    const hand = handFeed();
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1 << 20 });
    const done = streamScopedSubscription(writer, {
      database: db,
      tenant,
      scopes: [P1],
      scopeFeed: hand.feed,
      after: undefined,
      heartbeatMs: 60_000,
      maxBacklogBytes: 1 << 20,
      stillGranted: async () => true,
    });
    const messages = readServerSentEvents(writer.body);
    const next = async () =>
      ScopedSubscriptionMessageSchema.parse(JSON.parse((await messages.next()).value.data));
    expect(await next()).toMatchObject({ kind: 'event', cursor: 's1.1' });
    expect(await next()).toMatchObject({ kind: 'caught-up', cursor: 's1.1' });

    // Announced twice, out of order, with an old position among them: one read, each item once.
    const second = await tasks.append('t1', renamed('b'));
    const third = await tasks.append('t1', moved('p2'));
    const before = reads();
    hand.announce([...third.events, ...second.events, ...second.events]);
    expect(await next()).toMatchObject({ kind: 'event', cursor: 's2.2' });
    expect(await next()).toMatchObject({ kind: 'left', cursor: 's3.3', scope: P1 });
    hand.announce(second.events); // already read: no query
    writer.close();
    await done;
    expect(reads() - before).toBe(1);
    expect(hand.listening).toBe(0);
  });

  it('leaves an unreadable item out without losing the id of what it sent', async () => {
    const tenant = `stream-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    await tasks.append('t1', created('p1', 'bob'));
    // Reassigned to ann: t1 joins her scope at position 2 with its history (s2.1), then the
    // reassignment (s2.2), which she may not read: the history's item keeps its own id.
    await tasks.append('t1', reassigned('ann'));
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1 << 20 });
    const done = streamScopedSubscription(writer, {
      database: db,
      tenant,
      scopes: [userKey('ann')],
      scopeFeed: handFeed().feed,
      after: 's1.1',
      heartbeatMs: 60_000,
      maxBacklogBytes: 1 << 20,
      stillGranted: async () => true,
      canRead: (event) => event.type !== 'TaskReassigned',
    });
    const seen: { kind: string; type?: string; id: string | undefined }[] = [];
    for await (const message of readServerSentEvents(writer.body)) {
      const parsed = ScopedSubscriptionMessageSchema.parse(JSON.parse(message.data));
      seen.push({
        kind: parsed.kind,
        ...(parsed.kind === 'event' ? { type: parsed.event.type } : {}),
        id: message.id,
      });
      if (parsed.kind === 'caught-up') writer.close();
    }
    await done;
    expect(seen).toEqual([
      { kind: 'event', type: 'TaskCreated', id: 's2.1' },
      { kind: 'caught-up', id: undefined },
    ]);
  });

  it('stops reading for a client gone during a run of items it may not read', async () => {
    const tenant = `stream-${tenants++}`;
    const { db, reads } = counted(pgliteDatabase(pglite()));
    const tasks = scopedTaskStore(db, tenant);
    for (const id of ['t1', 't2', 't3', 't4']) await tasks.append(id, created('p1', 'ann'));
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1 << 20 });
    writer.close(); // the client left
    await streamScopedSubscription(writer, {
      database: db,
      tenant,
      scopes: [P1],
      scopeFeed: handFeed().feed,
      after: undefined,
      heartbeatMs: 60_000,
      maxBacklogBytes: 1 << 20,
      stillGranted: async () => true,
      canRead: () => false,
      pageSize: 1,
    });
    // One page, not all four: nothing was sent, so only the page's end could notice.
    expect(reads()).toBe(1);
  });

  it('ends a reader that falls behind its scopes’ live traffic by the cap as a slow reader, resuming after its last id', async () => {
    const tenant = `stream-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    await tasks.append('t0', created('p1', 'ann'));
    const hand = handFeed();
    const writer = createBoundedSseWriter({
      maxBufferedBytes: 4096,
      overflowMessage: (last) =>
        JSON.stringify({ kind: 'closing', reason: 'slow-reader', resumeAfter: last }),
    });
    const reader = writer.body.getReader();
    const done = streamScopedSubscription(writer, {
      database: db,
      tenant,
      scopes: [P1],
      scopeFeed: hand.feed,
      after: undefined,
      heartbeatMs: 60_000,
      maxBacklogBytes: 3000,
      stillGranted: async () => true,
    });
    await reader.read(); // the catch-up's event (and caught-up), then the reader stops
    for (let n = 1; n <= 40; n++) {
      const appended = await tasks.append(`t${n}`, created('p1', 'ann', 'x'.repeat(100)));
      hand.announce(appended.events);
    }
    await done;
    expect(writer.ended).toBe('overflow');
    const rest: string[] = [];
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      rest.push(new TextDecoder().decode(value));
    }
    expect(rest.join('')).toContain('"reason":"slow-reader","resumeAfter":"s1.1"');
  });

  it('checks its rules at every heartbeat and ends with access-changed once one is refused', async () => {
    const tenant = `stream-${tenants++}`;
    const db = pgliteDatabase(pglite());
    const tasks = scopedTaskStore(db, tenant);
    await tasks.append('t1', created('p2', 'ann'));
    let granted = true;
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1 << 20 });
    const done = streamScopedSubscription(writer, {
      database: db,
      tenant,
      scopes: [P2],
      scopeFeed: handFeed().feed,
      after: undefined,
      heartbeatMs: 20,
      maxBacklogBytes: 1 << 20,
      stillGranted: async () => granted,
    });
    const messages = readServerSentEvents(writer.body);
    const kinds: string[] = [];
    for await (const message of messages) {
      const parsed = ScopedSubscriptionMessageSchema.parse(JSON.parse(message.data));
      kinds.push(parsed.kind);
      if (parsed.kind === 'heartbeat') granted = false;
      if (parsed.kind === 'closing') {
        expect(parsed).toEqual({ kind: 'closing', reason: 'access-changed', resumeAfter: 's1.1' });
      }
    }
    await done;
    expect(kinds).toEqual(['event', 'caught-up', 'heartbeat', 'closing']);
  });
});
