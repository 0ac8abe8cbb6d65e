/**
 * Test code only: dense per-tenant positions (issue 12, item 11), run against any database:
 * PGlite in the unit tier, real Postgres through the Neon driver in the pg tier. What a client
 * sees (positions, cursors, counts) must not depend on what other tenants write, and cursors from
 * before tenant positions must still resume exactly.
 */
import { ANY, type EventStore, InvalidCursorError, PROBLEM_JSON } from '@strata/core';
import {
  bearerToken,
  commit,
  type SyncClient,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthentication } from '../../src/app/auth.ts';
import { createSyncApp } from '../../src/app/create-sync-app.ts';
import { MIGRATIONS, migrate } from '../../src/migrations/migrations.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../../src/postgres/postgres-stored-event.ts';
import type { SqlDatabase } from '../../src/postgres/sql-database.ts';
import { newNote } from '../fixtures/first-note.ts';
import type { SuiteDatabase } from './suite-databases.ts';

const SECRET = 'tenant-positions-secret';
const TENANT_CURSOR = /^t(0|[1-9][0-9]*)$/;

/** Declares the suite's tests; `open` gives a fresh, empty database each call. */
export function describeTenantPositions(label: string, open: () => Promise<SuiteDatabase>): void {
  describe(`tenant positions (${label})`, () => {
    let suite: SuiteDatabase;
    let database: SqlDatabase;
    let app: ReturnType<typeof createSyncApp>;

    beforeAll(async () => {
      suite = await open();
      database = suite.database;
      await migrate(database);
      app = createSyncApp({
        database,
        authenticate: jwtAuthentication({ secret: SECRET }),
        onError: () => undefined,
      });
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await suite?.close();
    });

    type Client = SyncClient & {
      get(path: string, headers?: Record<string, string>): Promise<Response>;
    };
    const clientOf = async (tenant: string): Promise<Client> => {
      const token = await bearerToken(SECRET, tenant);
      return Object.assign(
        syncClient(async (path, init) => app.request(path, init), { token }),
        {
          get: async (path: string, headers: Record<string, string> = {}) =>
            app.request(path, { headers: { authorization: `Bearer ${token}`, ...headers } }),
        },
      );
    };

    /** Everything a client of `tenant` can observe about the places of its events. */
    async function observe(client: Client) {
      const pages = [];
      for (let after: string | undefined; ; ) {
        const query = new URLSearchParams({ limit: '2', count: 'true' });
        if (after !== undefined) query.set('after', after);
        const page = await (await client.get(`/v1/pull?${query}`)).json();
        pages.push({
          positions: page.events.map((event: { position: number }) => event.position),
          versions: page.events.map((event: { version: number }) => event.version),
          cursor: page.cursor,
          hasMore: page.hasMore,
          remaining: page.remaining,
        });
        after = page.cursor;
        if (!page.hasMore) break;
      }
      const subscription = await client.subscribe();
      const messages = await subscription.next((seen) =>
        seen.some((message) => message.kind === 'caught-up'),
      );
      subscription.close();
      const volatile = await client.subscribe(undefined, 'now');
      const [caughtUpNow] = await volatile.next((seen) => seen.length > 0);
      volatile.close();
      const metadata = await (await client.get('/v1/streams/Todo/a')).json();
      const history = await (await client.get('/v1/streams/Todo/a/events')).json();
      return {
        pages,
        subscribed: messages.map((message) =>
          message.kind === 'event'
            ? [message.cursor, message.event.position]
            : [message.kind, 'cursor' in message ? message.cursor : undefined],
        ),
        caughtUpNow,
        lastCursor: metadata.lastCursor,
        history: history.events.map((event: { position: number }) => event.position),
      };
    }

    it('a tenant sees the same positions and cursors whether or not another tenant wrote in between', async () => {
      const quiet = await clientOf('quiet');
      const busy = await clientOf('busy');
      const noise = await clientOf('noise');
      const answers: Record<'quiet' | 'busy', number[][]> = { quiet: [], busy: [] };
      for (let round = 0; round < 4; round++) {
        const events = [todoEvent('a', 2 * round + 1), todoEvent('a', 2 * round + 2)];
        const result = await quiet.push(commit(`q${round}`, ...events.slice(0, 1 + (round % 2))));
        const twin = await busy.push(commit(`b${round}`, ...events.slice(0, 1 + (round % 2))));
        // Only the busy tenant's neighbour writes: 3 commits of 1..3 events between its pushes.
        for (let n = 1; n <= 3; n++) {
          await noise.push(
            commit(
              `n${round}-${n}`,
              ...Array.from({ length: n }, (_, i) => todoEvent(`n${round}-${n}`, i + 1)),
            ),
          );
        }
        for (const [who, response] of [
          ['quiet', result],
          ['busy', twin],
        ] as const) {
          const [answer] = response.results;
          if (answer?.status !== 'accepted')
            throw new Error(`push refused: ${JSON.stringify(answer)}`);
          answers[who].push(answer.positions);
        }
        // Versions must follow on: the commit's second event only exists on odd rounds.
        if (round % 2 === 0) {
          await quiet.push(commit(`q${round}+`, todoEvent('a', 2 * round + 2)));
          await busy.push(commit(`b${round}+`, todoEvent('a', 2 * round + 2)));
        }
      }
      expect(answers.busy).toEqual(answers.quiet);
      expect(answers.quiet.flat()).toEqual([1, 3, 4, 5, 7, 8]);

      const seenQuiet = await observe(quiet);
      const seenBusy = await observe(busy);
      expect(seenBusy).toEqual(seenQuiet);
      // Dense 1..n, and no cursor carries anything but the tenant's own position.
      expect(seenQuiet.pages.flatMap((page) => page.positions)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(seenQuiet.pages.map((page) => page.cursor)).toEqual(['t2', 't4', 't6', 't8']);
      expect(seenQuiet.pages.map((page) => page.remaining)).toEqual([6, 4, 2, 0]);
      expect(seenQuiet.subscribed.at(-1)).toEqual(['caught-up', 't8']);
      expect(seenQuiet.subscribed.slice(0, -1)).toEqual(
        Array.from({ length: 8 }, (_, i) => [`t${i + 1}`, i + 1]),
      );
      expect(seenQuiet.caughtUpNow).toEqual({ kind: 'caught-up', cursor: 't8' });
      expect(seenQuiet.lastCursor).toBe('t8');
      expect(seenQuiet.history).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      // The neighbour's own log is dense too, though its appends interleaved with the others'.
      const noiseEvents = await noise.pullAll();
      expect(noiseEvents.map((event) => event.position)).toEqual(
        Array.from({ length: 24 }, (_, i) => i + 1),
      );
    });

    it('a cursor from before tenant positions (<xid>.<position>) resumes right after its event', async () => {
      const store = createPostgresEventStore(database, { tenant: 'legacy' });
      const other = createPostgresEventStore(database, { tenant: 'legacy-neighbour' });
      const stream = { aggregateType: 'Note', aggregateId: 'n' };
      for (let i = 0; i < 5; i++) {
        await store.append(stream, [newNote({ i }), newNote({ i, second: true })], {
          expectedVersion: ANY,
        });
        await other.append(stream, [newNote({ i })], { expectedVersion: ANY });
      }
      const all = (await store.readAll()).events;
      expect(all.map((event) => event.tenantPosition)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const client = await clientOf('legacy');
      for (const [index, event] of all.entries()) {
        // `cursor` is the event's global cursor, the format clients were given before.
        expect(event.cursor).toMatch(/^[0-9]+\.[0-9]+$/);
        const page = await client.pull(event.cursor, 3);
        expect(page.events.map((next) => next.id)).toEqual(
          all.slice(index + 1, index + 4).map((next) => next.id),
        );
        expect(page.cursor).toBe(`t${Math.min(index + 4, all.length)}`);
      }
      expect((await client.pull('0.0')).events.map((event) => event.id)).toEqual(
        all.map((event) => event.id),
      );
      // Past everything (a cursor of the neighbour's later event): nothing, at the tenant's end.
      const neighbourLast = (await other.readAll()).events.at(-1);
      const beyond = await client.pull(neighbourLast?.cursor);
      expect([beyond.events.length, beyond.cursor]).toEqual([0, 't10']);
      // A reconnecting subscriber with an old Last-Event-ID resumes after its event too.
      const response = await client.get('/v1/subscribe', {
        'last-event-id': all[6]?.cursor ?? '',
      });
      const reader = response.body?.getReader();
      let text = '';
      while (!text.includes('caught-up')) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      await reader?.cancel();
      const ids = [...text.matchAll(/^id: (.*)$/gm)].map((match) => match[1]);
      expect(ids).toEqual(['t8', 't9', 't10']);
    });

    it('anything else is INVALID_CURSOR, a cursor past the end too (it would skip what comes next)', async () => {
      const client = await clientOf('junk');
      await client.push(commit('j1', todoEvent('a', 1)));
      for (const junk of ['t-1', 't01', 'T1', 't1.0', '1.', `${2n ** 64n}.0`, 'cursor']) {
        const response = await client.get(`/v1/pull?after=${encodeURIComponent(junk)}`);
        expect(response.status, junk).toBe(400);
        expect(response.headers.get('content-type')).toContain(PROBLEM_JSON);
        expect((await response.json()).code).toBe('INVALID_CURSOR');
        const subscribe = await client.get(`/v1/subscribe?after=${encodeURIComponent(junk)}`);
        expect(subscribe.status, junk).toBe(400);
      }
      const store = createPostgresEventStore(database, { tenant: 'junk' });
      await expect(store.readAll({ after: 'x' })).rejects.toThrow(InvalidCursorError);
      // The end itself is a cursor this log gave out: an empty page, not an error.
      const atEnd = await client.pull('t1');
      expect([atEnd.events.length, atEnd.cursor, atEnd.hasMore]).toEqual([0, 't1', false]);
      // Past the end (a replaced database numbers from 1 again): refused, for pull and subscribe
      // (query and Last-Event-ID), before any stream starts.
      for (const request of [
        client.get('/v1/pull?after=t2'),
        client.get('/v1/subscribe?after=t999999'),
        client.get('/v1/subscribe', { 'last-event-id': 't2' }),
      ]) {
        const response = await request;
        expect(response.status).toBe(400);
        expect((await response.json()).code).toBe('INVALID_CURSOR');
      }
      await expect(store.readAll({ after: 't999999' })).rejects.toThrow(InvalidCursorError);
      expect(await store.countAfter('t999999')).toBe(0);
      expect(await store.countAfter()).toBe(1);
    });

    it('a rolled-back append gives its positions back; a retried append takes none', async () => {
      const store = createPostgresEventStore(database, { tenant: 'rollback' });
      const stream = { aggregateType: 'Note', aggregateId: 'r' };
      await store.append(stream, [newNote()], { expectedVersion: ANY });
      await expect(
        store.append(stream, [newNote(), newNote()], {
          expectedVersion: ANY,
          beforeCommit: () => {
            throw new Error('changed my mind');
          },
        }),
      ).rejects.toThrow('changed my mind');
      const again = [newNote(), newNote()];
      const stored = await store.append(stream, again, { expectedVersion: 1 });
      expect(stored.events.map((event) => (event as PostgresStoredEvent).tenantPosition)).toEqual([
        2, 3,
      ]);
      // The same events once more: confirmed as stored, no new positions.
      const retry = await store.append(stream, again, { expectedVersion: 1 });
      expect(retry.alreadyStored).toBe(true);
      await store.append(stream, [newNote()], { expectedVersion: ANY });
      const { rows } = await database.query<{ tenant_position: string | number }>(
        "SELECT tenant_position FROM strata_events WHERE tenant = 'rollback' ORDER BY tenant_position",
      );
      expect(rows.map((row) => Number(row.tenant_position))).toEqual([1, 2, 3, 4]);
      const counter = await database.query<{ last: string | number }>(
        "SELECT last FROM strata_tenant_positions WHERE tenant = 'rollback'",
      );
      expect(Number(counter.rows[0]?.last)).toBe(4);
    });
  });

  describe(`the tenant-positions migration (${label})`, () => {
    let suite: SuiteDatabase;
    afterAll(async () => {
      await suite?.close();
    });

    it('numbers existing events per tenant in their global order, and old cursors resume exactly', async () => {
      suite = await open();
      const db = suite.database;
      await migrate(
        db,
        MIGRATIONS.filter((migration) => migration.version < 7),
      );
      // Events as the old code stored them: several per transaction, tenants interleaved.
      const insert = (tenant: string, aggregateId: string, versions: number[]) =>
        db.transaction(async (tx) => {
          for (const version of versions) {
            await tx.query(
              `INSERT INTO strata_events (tenant, id, type, schema_version, aggregate_type,
                 aggregate_id, version, data, metadata, occurred_at)
               VALUES ($1, $2, 'Noted', 1, 'Note', $3, $4, '{}', '{}', now())`,
              [tenant, `${tenant}-${aggregateId}-${version}`, aggregateId, version],
            );
          }
        });
      await insert('a', 'x', [1, 2]);
      await insert('b', 'x', [1]);
      await insert('a', 'y', [1]);
      await insert('b', 'x', [2, 3]);
      await insert('a', 'x', [3, 4, 5]);
      // Each tenant's old reading order, with the cursors its clients were given.
      const oldOrder = async (tenant: string) =>
        (
          await db.query<{ id: string; cursor: string }>(
            `SELECT id, transaction_id::text || '.' || position AS cursor FROM strata_events
             WHERE tenant = $1 ORDER BY strata_events.transaction_id, position`,
            [tenant],
          )
        ).rows;
      const oldA = await oldOrder('a');
      const oldB = await oldOrder('b');

      expect(
        await migrate(
          db,
          MIGRATIONS.filter((m) => m.version <= 7),
        ),
      ).toEqual([7]);

      for (const [tenant, old] of [
        ['a', oldA],
        ['b', oldB],
      ] as const) {
        const store = createPostgresEventStore(db, { tenant });
        const events = (await store.readAll()).events;
        expect(events.map((event) => event.id)).toEqual(old.map((row) => row.id));
        expect(events.map((event) => event.tenantPosition)).toEqual(old.map((_, i) => i + 1));
        for (const [index, row] of old.entries()) {
          const page = await store.readAll({ after: row.cursor });
          expect(page.events.map((event) => event.id)).toEqual(
            old.slice(index + 1).map((next) => next.id),
          );
        }
        expect(await store.countAfter()).toBe(old.length);
      }
      // New appends go on from each tenant's count.
      const a = createPostgresEventStore(db, { tenant: 'a' }) as EventStore<never>;
      const appended = await a.append({ aggregateType: 'Note', aggregateId: 'y' }, [newNote()], {
        expectedVersion: 1,
      });
      expect(
        (appended.events as readonly { tenantPosition?: number }[]).map((e) => e.tenantPosition),
      ).toEqual([oldA.length + 1]);
      // A row stored the old way after the migration (an instance of the previous release during
      // a rolling deploy) is numbered next, by the trigger.
      await insert('a', 'old-code', [1]);
      const last = (await createPostgresEventStore(db, { tenant: 'a' }).readAll()).events.at(-1);
      expect([last?.id, last?.tenantPosition]).toEqual(['a-old-code-1', oldA.length + 2]);
      // The constraint holds: no two events of a tenant share a position.
      await expect(
        db.query(
          `INSERT INTO strata_events (tenant, id, type, schema_version, aggregate_type,
             aggregate_id, version, data, metadata, occurred_at, tenant_position)
           VALUES ('a', 'dup', 'Noted', 1, 'Note', 'z', 1, '{}', '{}', now(), 1)`,
        ),
      ).rejects.toThrow();
      expect(TENANT_CURSOR.test(await createPostgresEventStore(db, { tenant: 'b' }).tail())).toBe(
        true,
      );
      expect(await createPostgresEventStore(db, { tenant: 'b' }).tail()).toBe(`t${oldB.length}`);
    }, 60_000);
  });
}
