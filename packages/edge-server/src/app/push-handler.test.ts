// applyPush on PGlite: which errors become a per-commit rejection and which fail the whole push
// (issue 12, item 2), and a reused event id with other content (item 12).
import { defineAggregate, defineEvent, newKsuid, UnavailableError } from '@strata/core';
import { todoEvent } from '@strata/tooling/sync/sync-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import type { AppendHook } from '../postgres/append-hook.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { applyPush } from './push-handler.ts';

const pglite = useMigratedPglite();
let tenants = 0;
const storeWith = (hook?: AppendHook) =>
  createPostgresEventStore(pgliteDatabase(pglite()), {
    tenant: `push-${tenants++}`,
    appendHooks: hook === undefined ? [] : [hook],
  });
const push = (...commits: { commitId: string; events: unknown[] }[]) => ({
  clientId: 'client-a',
  commits,
});

describe('applyPush', () => {
  it('lets UNAVAILABLE (the database is gone) fail the whole push, never a commit', async () => {
    const store = storeWith(() => {
      throw new UnavailableError('The database connection was lost', { retryAfterSeconds: 1 });
    });
    await expect(
      applyPush(store, push({ commitId: 'c1', events: [todoEvent('t1', 1)] })),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await store.streamVersion({ aggregateType: 'Todo', aggregateId: 't1' })).toBe(0);
  });

  it('lets errors that are not strata errors fail the whole push', async () => {
    const store = storeWith(() => {
      throw new TypeError('a bug');
    });
    await expect(
      applyPush(store, push({ commitId: 'c1', events: [todoEvent('t1', 1)] })),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it("rejects only the commit an app's upcaster throws on, as VALIDATION_FAILED", async () => {
    // Not total: an empty v1 name makes `.at(0)` undefined, and the upcaster a TypeError.
    const Named = defineEvent('Named', z.object({ name: z.string() })).nextVersion(
      z.object({ initial: z.string() }),
      (old) => ({ initial: (old.name.at(0) as string).toUpperCase() }),
    );
    const Badge = defineAggregate({
      type: 'Badge',
      events: [Named],
      initialState: () => ({}),
      evolve: (state) => state,
    });
    const store = storeWith();
    const named = (aggregateId: string, name: string) => ({
      id: newKsuid(),
      type: 'Named',
      schemaVersion: 1,
      aggregateType: 'Badge',
      aggregateId,
      version: 1,
      occurredAt: new Date().toISOString(),
      data: { name },
      metadata: {},
    });
    const response = await applyPush(
      store,
      push(
        { commitId: 'c1', events: [named('b1', 'ada')] },
        { commitId: 'c2', events: [named('b2', '')] },
        { commitId: 'c3', events: [named('b3', 'grace')] },
      ),
      { aggregates: new Map([['Badge', Badge]]) },
    );
    expect(response.results.map((result) => [result.commitId, result.status])).toEqual([
      ['c1', 'accepted'],
      ['c2', 'rejected'],
      ['c3', 'accepted'],
    ]);
    expect(response.results[1]).toMatchObject({ code: 'VALIDATION_FAILED', currentVersion: 0 });
    expect(await store.streamVersion({ aggregateType: 'Badge', aggregateId: 'b2' })).toBe(0);
    expect(await store.streamVersion({ aggregateType: 'Badge', aggregateId: 'b3' })).toBe(1);
  });

  it('answers a stored event id pushed again with other data DUPLICATE_EVENT_ID; the same event is accepted', async () => {
    const store = storeWith();
    const event = todoEvent('t1', 1);
    const first = await applyPush(store, push({ commitId: 'c1', events: [event] }));
    expect(first.results[0]?.status).toBe('accepted');
    const same = await applyPush(store, push({ commitId: 'c1', events: [event] }));
    expect(same).toEqual(first);
    const changed = await applyPush(
      store,
      push({ commitId: 'c1', events: [{ ...event, data: { title: 'something else' } }] }),
    );
    expect(changed.results).toEqual([
      expect.objectContaining({
        status: 'rejected',
        code: 'DUPLICATE_EVENT_ID',
        currentVersion: 1,
      }),
    ]);
    const [stored] = await store.readStream({ aggregateType: 'Todo', aggregateId: 't1' });
    expect(stored?.data).toEqual(event.data);
  });

  it('rejects a commit whose event id an earlier commit of the push carries', async () => {
    const store = storeWith();
    const event = todoEvent('t1', 1);
    const { results } = await applyPush(
      store,
      push(
        { commitId: 'c1', events: [event] },
        { commitId: 'c2', events: [{ ...event, aggregateId: 't2' }] },
      ),
    );
    expect(results.map((result) => [result.commitId, result.status])).toEqual([
      ['c1', 'accepted'],
      ['c2', 'rejected'],
    ]);
    expect(results[1]).toMatchObject({ code: 'VALIDATION_FAILED', currentVersion: 0 });
  });

  it('answers a push of mixed commits as if they were stored one after the other', async () => {
    const store = storeWith();
    const { results } = await applyPush(
      store,
      push(
        { commitId: 'c1', events: [todoEvent('t1', 1)] },
        { commitId: 'c2', events: [{ ...todoEvent('t2', 1), version: 'one' }] }, // invalid
        { commitId: 'c3', events: [todoEvent('t2', 1)] }, // blocked by c2
        { commitId: 'c4', events: [todoEvent('t1', 2)] },
        { commitId: 'c5', events: [todoEvent('t3', 2)] }, // t3 has no version 1
        { commitId: 'c6', events: [todoEvent('t3', 1)] }, // blocked by c5
        { commitId: 'c7', events: [todoEvent('t1', 3)] },
      ),
    );
    expect(
      results.map((result) => [result.commitId, result.status, 'code' in result && result.code]),
    ).toEqual([
      ['c1', 'accepted', false],
      ['c2', 'rejected', 'VALIDATION_FAILED'],
      ['c3', 'rejected', 'VERSION_CONFLICT'],
      ['c4', 'accepted', false],
      ['c5', 'rejected', 'VERSION_CONFLICT'],
      ['c6', 'rejected', 'VERSION_CONFLICT'],
      ['c7', 'accepted', false],
    ]);
    expect(results[2]).toMatchObject({ message: expect.stringContaining('earlier commit') });
    expect(results[4]).toMatchObject({ currentVersion: 0 });
    const stream = (aggregateId: string) => ({ aggregateType: 'Todo', aggregateId });
    expect((await store.readStream(stream('t1'))).map((event) => event.version)).toEqual([1, 2, 3]);
    expect(await store.readStream(stream('t2'))).toEqual([]);
    expect(await store.readStream(stream('t3'))).toEqual([]);
  });

  it('answers an invalid commit after a refused one of its aggregate at the version that one reported', async () => {
    const store = storeWith();
    await applyPush(store, push({ commitId: 'c0', events: [todoEvent('t1', 1)] }));
    const { results } = await applyPush(
      store,
      push(
        { commitId: 'c1', events: [todoEvent('t1', 1)] }, // t1 is at 1: conflict
        { commitId: 'c2', events: [{ ...todoEvent('t1', 2), type: '' }] },
      ),
    );
    expect(results).toEqual([
      expect.objectContaining({ status: 'rejected', code: 'VERSION_CONFLICT', currentVersion: 1 }),
      expect.objectContaining({ status: 'rejected', code: 'VALIDATION_FAILED', currentVersion: 1 }),
    ]);
  });

  it('folds each commit onto the earlier commits of the same push (foldThroughEvolve)', async () => {
    const Added = defineEvent('Added', z.object({}));
    const AtMostTwo = defineAggregate({
      type: 'Pair',
      events: [Added],
      initialState: () => 0,
      evolve: (count: number) => {
        if (count >= 2) throw new RangeError('a pair holds two');
        return count + 1;
      },
    });
    const store = storeWith();
    const added = (version: number) => ({
      ...todoEvent('p1', version, 'Added', {}),
      aggregateType: 'Pair',
      schemaVersion: 1,
    });
    const { results } = await applyPush(
      store,
      push(
        { commitId: 'c1', events: [added(1)] },
        { commitId: 'c2', events: [added(2)] },
        { commitId: 'c3', events: [added(3)] },
      ),
      { aggregates: new Map([['Pair', AtMostTwo]]), foldThroughEvolve: true },
    );
    expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(results[2]).toMatchObject({ code: 'VALIDATION_FAILED', currentVersion: 2 });
    expect(await store.streamVersion({ aggregateType: 'Pair', aggregateId: 'p1' })).toBe(2);
  });
});
