import {
  ANY,
  newKsuid,
  readServerSentEvents,
  type StoredEvent,
  SubscriptionMessageSchema,
} from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { singleTenant } from '../app/auth.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonListen } from '../subscriptions/listen-source.ts';
import { neonDatabase } from './neon-database.ts';
import { createPostgresEventStore, readGlobalOrder } from './postgres-event-store.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 12 });
  await migrate(neonDatabase(pool));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('no reader skips a late-committed event', () => {
  it('8 writers on 10 aggregates, some holding their transaction open, a neighbour tenant, a paging reader and a subscriber', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'race' });
    // Another tenant's writers race too: they make the global order race (its positions are
    // taken in any order across tenants) while each tenant's own positions stay dense.
    const neighbour = createPostgresEventStore(neonDatabase(pool), { tenant: 'race-neighbour' });
    const app = createSyncApp({
      database: neonDatabase(pool),
      authenticate: singleTenant('race'),
      listen: neonListen(() => database.createClient()),
      pollIntervalMs: 60_000,
    });
    onTestFinished(() => app.close());
    const WRITERS = 8;
    const APPENDS_PER_WRITER = 12;
    let writing = true;
    const commitOrder: number[] = [];

    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      const written: string[] = [];
      const into = writer % 2 === 0 ? store : neighbour;
      for (let i = 0; i < APPENDS_PER_WRITER; i++) {
        const aggregateId = `agg-${(writer * 7 + i) % 10}`;
        const events = Array.from({ length: 1 + (i % 3) }, () => ({
          id: newKsuid(),
          type: 'Raced',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          data: { writer, i },
          metadata: {},
        }));
        // Every third append keeps its transaction open after its positions were assigned, so
        // later transactions commit higher positions first.
        const holdMs = i % 3 === 0 ? 40 + ((writer * 13) % 60) : 0;
        const result = await into.append({ aggregateType: 'Race', aggregateId }, events, {
          expectedVersion: ANY,
          ...(holdMs > 0 ? { beforeCommit: () => sleep(holdMs) } : {}),
        });
        if (into === store) written.push(...result.events.map((event) => event.id));
        commitOrder.push(...result.events.map((event) => event.position));
      }
      return written;
    });

    // A subscriber streams the same order over SSE from a sync app on the same database, woken by
    // NOTIFY (the writers bypass the app, so nothing else tells it).
    const subscription = new AbortController();
    const total = (WRITERS / 2) * APPENDS_PER_WRITER * 2; // appends carry 1, 2, 3, 1, 2, 3... events: 2 on average
    const subscriber = (async () => {
      const response = await app.request('/v1/subscribe', { signal: subscription.signal });
      const events: StoredEvent[] = [];
      const ids: (string | undefined)[] = [];
      for await (const { data, id } of readServerSentEvents(
        response.body as ReadableStream<Uint8Array>,
      )) {
        const message = SubscriptionMessageSchema.parse(JSON.parse(data));
        if (message.kind === 'event') {
          events.push(message.event);
          ids.push(id);
        }
        if (events.length === total) break;
      }
      return { events, ids };
    })();

    const seen: PostgresStoredEvent[] = [];
    const cursors: string[] = [];
    const reader = (async () => {
      let cursor: string | undefined;
      for (;;) {
        const stillWriting = writing;
        const page = await store.readAll({
          ...(cursor === undefined ? {} : { after: cursor }),
          limit: 7,
        });
        seen.push(...page.events);
        cursors.push(...page.events.map((event) => event.tenantCursor));
        cursor = page.cursor;
        if (!stillWriting && !page.hasMore) return;
        if (page.events.length === 0) await sleep(5);
      }
    })();

    const written = (await Promise.all(writers)).flat();
    writing = false;
    await reader;
    const streamed = await subscriber;
    subscription.abort();
    expect(streamed.events.map((event) => event.id)).toEqual(seen.map((event) => event.id));
    // Clients see dense tenant positions 1..n, in order, as positions and as cursors (SSE ids).
    const dense = Array.from({ length: total }, (_, i) => i + 1);
    expect(streamed.events.map((event) => event.position)).toEqual(dense);
    expect(streamed.ids).toEqual(dense.map((n) => `t${n}`));
    expect(seen.map((event) => event.tenantPosition)).toEqual(dense);
    expect(cursors).toEqual(dense.map((n) => `t${n}`));

    const seenIds = seen.map((event) => event.id);
    expect(new Set(seenIds).size).toBe(seenIds.length); // exactly once
    expect([...seenIds].sort()).toEqual([...written].sort()); // none missing
    // The race really happened: some events committed after events with higher global positions.
    expect(commitOrder.some((position, i) => position < Math.max(...commitOrder.slice(0, i)))).toBe(
      true,
    );
    // Per aggregate, versions are 1..n with none duplicated or missing.
    const byAggregate = new Map<string, number[]>();
    for (const event of seen)
      byAggregate.set(event.aggregateId, [
        ...(byAggregate.get(event.aggregateId) ?? []),
        event.version,
      ]);
    for (const versions of byAggregate.values()) {
      expect([...versions].sort((a, b) => a - b)).toEqual(
        Array.from({ length: versions.length }, (_, i) => i + 1),
      );
    }
  });
});

/** A gate a test opens when it is ready. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Waits until some backend waits for a lock while running a statement containing `text`. */
async function untilWaitingOnLock(text: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
      [text],
    );
    if (rows.length > 0) return;
    await sleep(10);
  }
}

const note = (n: number) => ({
  id: newKsuid(),
  type: 'Noted',
  schemaVersion: 1,
  occurredAt: new Date().toISOString(),
  data: { n },
  metadata: {},
});

describe('tenant positions under concurrent appends (real Postgres)', () => {
  it('a late committer holds back its tenant: readers never see a later position first', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'late' });
    const held = gate();
    const inserted = gate();
    const first = store.append({ aggregateType: 'Late', aggregateId: 'a' }, [note(1), note(2)], {
      expectedVersion: ANY,
      beforeCommit: async () => {
        inserted.open();
        await held.opened; // positions 1..2 taken, not committed
      },
    });
    await inserted.opened;
    const second = store.append({ aggregateType: 'Late', aggregateId: 'b' }, [note(3)], {
      expectedVersion: ANY,
    });
    // The second append waits for the tenant's counter, so it cannot commit position 3 before
    // 1..2 are committed (or given back).
    await untilWaitingOnLock('strata_tenant_positions');
    expect((await store.readAll()).events).toEqual([]);
    expect(await store.countAfter()).toBe(0);
    held.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.events.map((event) => (event as PostgresStoredEvent).tenantPosition)).toEqual([1, 2]);
    expect(b.events.map((event) => (event as PostgresStoredEvent).tenantPosition)).toEqual([3]);
    const page = await store.readAll();
    expect(page.events.map((event) => event.tenantPosition)).toEqual([1, 2, 3]);
    expect(page.cursor).toBe('t3');
  });

  it('a rollback while others wait gives its positions to the next append', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'rolled' });
    const held = gate();
    const inserted = gate();
    const doomed = store.append({ aggregateType: 'Rolled', aggregateId: 'a' }, [note(1), note(2)], {
      expectedVersion: ANY,
      beforeCommit: async () => {
        inserted.open();
        await held.opened;
        throw new Error('rolled back');
      },
    });
    await inserted.opened;
    const waiting = store.append({ aggregateType: 'Rolled', aggregateId: 'b' }, [note(3)], {
      expectedVersion: ANY,
    });
    await untilWaitingOnLock('strata_tenant_positions');
    held.open();
    await expect(doomed).rejects.toThrow('rolled back');
    const stored = await waiting;
    expect(stored.events.map((event) => (event as PostgresStoredEvent).tenantPosition)).toEqual([
      1,
    ]);
    await store.append({ aggregateType: 'Rolled', aggregateId: 'a' }, [note(4)], {
      expectedVersion: ANY,
    });
    const { rows } = await pool.query(
      "SELECT tenant_position::int AS p FROM strata_events WHERE tenant = 'rolled' ORDER BY 1",
    );
    expect(rows.map((row) => row.p)).toEqual([1, 2]);
  });

  it("another tenant's long transaction does not hold back a tenant's reads", async () => {
    const other = createPostgresEventStore(neonDatabase(pool), { tenant: 'long-open' });
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'not-waiting' });
    const held = gate();
    const inserted = gate();
    const open = other.append({ aggregateType: 'Long', aggregateId: 'a' }, [note(1)], {
      expectedVersion: ANY,
      beforeCommit: async () => {
        inserted.open();
        await held.opened;
      },
    });
    await inserted.opened;
    // Written after the other tenant's transaction began (a higher transaction id): the global
    // order may not serve it yet, the tenant's own order serves it at once.
    await store.append({ aggregateType: 'Short', aggregateId: 'a' }, [note(2)], {
      expectedVersion: ANY,
    });
    const page = await store.readAll();
    expect(page.events.map((event) => event.tenantPosition)).toEqual([1]);
    expect(await store.countAfter()).toBe(1);
    expect(await store.tail()).toBe('t1');
    held.open();
    await open;
  });

  it('a live subscriber gets events the feed delivers out of tenant order exactly once', async () => {
    const tenant = 'feed-gap';
    const app = createSyncApp({
      database: neonDatabase(pool),
      authenticate: singleTenant(tenant),
      listen: neonListen(() => database.createClient()),
      pollIntervalMs: 60_000,
    });
    onTestFinished(() => app.close());
    const base = neonDatabase(pool);
    // A transaction that gets its id first but takes the tenant's counter last: the feed (global
    // order, by transaction id) hands its event over before the one that was numbered first.
    const xidTaken = gate();
    const goOn = gate();
    const early = createPostgresEventStore(
      {
        query: (text, params) => base.query(text, params),
        transaction: (work) =>
          base.transaction(async (tx) => {
            await tx.query('SELECT pg_current_xact_id()');
            xidTaken.open();
            await goOn.opened;
            return work(tx);
          }),
      },
      { tenant },
    );
    const store = createPostgresEventStore(base, { tenant });

    const subscription = new AbortController();
    onTestFinished(() => subscription.abort());
    const response = await app.request('/v1/subscribe', { signal: subscription.signal });
    const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    const received: { position: number; id: string | undefined }[] = [];
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value } = await messages.next();
        if (value === undefined) throw new Error('the subscription ended');
        const message = SubscriptionMessageSchema.parse(JSON.parse(value.data));
        if (message.kind === 'event')
          received.push({ position: message.event.position, id: value.id });
        if (message.kind === 'caught-up') return;
      }
    };
    await readUntil(() => false); // caught up on an empty tenant

    const late = early.append({ aggregateType: 'Gap', aggregateId: 'a' }, [note(1)], {
      expectedVersion: ANY,
    });
    await xidTaken.opened;
    await store.append({ aggregateType: 'Gap', aggregateId: 'b' }, [note(2)], {
      expectedVersion: ANY,
    }); // position 1, committed, but behind the open transaction in the global order
    goOn.open();
    const lateResult = await late; // position 2, the lower transaction id
    expect((lateResult.events[0] as PostgresStoredEvent).tenantPosition).toBe(2);
    const global = (await readGlobalOrder(base, { tenant })).events;
    expect(global.map((event) => event.tenantPosition)).toEqual([2, 1]); // the race happened
    await store.append({ aggregateType: 'Gap', aggregateId: 'b' }, [note(3)], {
      expectedVersion: ANY,
    });
    await readUntil(() => received.length >= 3);
    expect(received).toEqual([
      { position: 1, id: 't1' },
      { position: 2, id: 't2' },
      { position: 3, id: 't3' },
    ]);
    // Nothing more is on its way (a duplicate of position 1 from the feed was dropped): the next
    // event is the next one appended.
    await store.append({ aggregateType: 'Gap', aggregateId: 'b' }, [note(4)], {
      expectedVersion: ANY,
    });
    await readUntil(() => received.length >= 4);
    expect(received.map((event) => event.position)).toEqual([1, 2, 3, 4]);
  });
});
