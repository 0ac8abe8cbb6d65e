import { ANY, InvalidCursorError } from '@strata/core';
import { taskScopes } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import {
  created,
  describeItem,
  moved,
  projectKey,
  readAllPages,
  reassigned,
  renamed,
  scopedTaskStore,
  userKey,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { encryptAggregates } from '../crypto/encryption-options.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { currentScopes } from './current-scopes.ts';
import { readScopes } from './read-scopes.ts';
import { scopeRowsHook } from './scope-rows-hook.ts';

const pglite = useMigratedPglite();
const db = () => pgliteDatabase(pglite());
const P1 = projectKey('p1');
const P2 = projectKey('p2');
const ANN = userKey('ann');
const BOB = userKey('bob');

const read = async (tenant: string, scopes: string[], limit = 100, from = {}) =>
  (await readAllPages(db(), tenant, scopes, limit, from)).items.map(describeItem);

describe('scope rows and scoped reads (PGlite)', () => {
  it('an event of a scope is one item at its position, with the scopes of the read it is in', async () => {
    const { append } = scopedTaskStore(db(), 'plain');
    await append('t1', created('p1', 'ann'));
    await append('t2', created('p2', 'bob'));
    await append('t1', renamed('renamed'));
    expect(await read('plain', [P1])).toEqual([`s1.1 event t1 v1 ${P1}`, `s3.3 event t1 v2 ${P1}`]);
    // One aggregate in two held scopes: one item naming both.
    expect(await read('plain', [P1, ANN])).toEqual([
      `s1.1 event t1 v1 ${P1} ${ANN}`,
      `s3.3 event t1 v2 ${P1} ${ANN}`,
    ]);
    expect(await read('plain', ['tenant', BOB])).toEqual([
      's1.1 event t1 v1 tenant',
      `s2.2 event t2 v1 tenant ${BOB}`,
      's3.3 event t1 v2 tenant',
    ]);
    const page = await readScopes(db(), 'plain', [{ scope: P1 }, { scope: P2 }], 100);
    expect(page.items.every((item) => item.kind !== 'event' || item.event.tenant === 'plain')).toBe(
      true,
    );
    expect(page).toMatchObject({
      hasMore: false,
      horizon: 3,
      cursors: { [P1]: 's3.3', [P2]: 's3.3' },
    });
  });

  it('a join sends the whole history at the join position; a leave is a left row; a re-join sends it again', async () => {
    const { append } = scopedTaskStore(db(), 'moves');
    await append('t1', created('p1', 'ann')); // 1
    await append('t1', renamed('two')); // 2
    await append('t1', moved('p2')); // 3: leaves p1, joins p2
    await append('t1', moved('p1')); // 4: leaves p2, re-joins p1
    expect(await read('moves', [P1])).toEqual([
      `s1.1 event t1 v1 ${P1}`,
      `s2.2 event t1 v2 ${P1}`,
      `s3.3 left t1 ${P1}`,
      `s4.1 event t1 v1 ${P1}`,
      `s4.2 event t1 v2 ${P1}`,
      `s4.3 event t1 v3 ${P1}`,
      `s4.4 event t1 v4 ${P1}`,
    ]);
    expect(await read('moves', [P2])).toEqual([
      `s3.1 event t1 v1 ${P2}`,
      `s3.2 event t1 v2 ${P2}`,
      `s3.3 event t1 v3 ${P2}`,
      `s4.4 left t1 ${P2}`,
    ]);
    // Held together: the move is the event item of the scope it joined and a left item of the
    // one it left, at one position.
    expect(await read('moves', [P1, P2], 100, { [P1]: 's2.2', [P2]: 's2.2' })).toEqual([
      `s3.1 event t1 v1 ${P2}`,
      `s3.2 event t1 v2 ${P2}`,
      `s3.3 event t1 v3 ${P2}`,
      `s3.3 left t1 ${P1}`,
      `s4.1 event t1 v1 ${P1}`,
      `s4.2 event t1 v2 ${P1}`,
      `s4.3 event t1 v3 ${P1}`,
      `s4.4 event t1 v4 ${P1}`,
      `s4.4 left t1 ${P2}`,
    ]);
    expect(
      await currentScopes(db(), 'moves', { aggregateType: 'Task', aggregateId: 't1' }),
    ).toEqual([ANN, P1]);
  });

  it('several events of one append, moving between them, give its net effect (it commits at once)', async () => {
    const { append } = scopedTaskStore(db(), 'one-append');
    await append('t1', created('p1', 'ann'), reassigned('bob'), reassigned('ann'));
    // In ann's scope after the append: the history once, at the event that joined it last.
    expect(await read('one-append', [ANN])).toEqual([
      `s3.1 event t1 v1 ${ANN}`,
      `s3.2 event t1 v2 ${ANN}`,
      `s3.3 event t1 v3 ${ANN}`,
    ]);
    // Joined and left inside the append: no reader of bob's scope could see it in between.
    expect(await read('one-append', [BOB])).toEqual([]);
    // Held before: moving out and back inside one append is just its events, no left.
    await append('t1', reassigned('bob'), reassigned('ann'));
    expect((await read('one-append', [ANN])).slice(3)).toEqual([
      `s4.4 event t1 v4 ${ANN}`,
      `s5.5 event t1 v5 ${ANN}`,
    ]);
    // Held before, out after: one left, at the event that left it last.
    await append('t1', reassigned('bob'), reassigned('ann'), reassigned('bob'));
    expect((await read('one-append', [ANN])).slice(5)).toEqual([`s8.8 left t1 ${ANN}`]);
    expect(await read('one-append', [BOB])).toEqual([
      `s8.1 event t1 v1 ${BOB}`,
      `s8.2 event t1 v2 ${BOB}`,
      `s8.3 event t1 v3 ${BOB}`,
      `s8.4 event t1 v4 ${BOB}`,
      `s8.5 event t1 v5 ${BOB}`,
      `s8.6 event t1 v6 ${BOB}`,
      `s8.7 event t1 v7 ${BOB}`,
      `s8.8 event t1 v8 ${BOB}`,
    ]);
  });

  it('pages cut inside a join history and go on from there, none lost or repeated', async () => {
    const { append } = scopedTaskStore(db(), 'paged');
    await append('t1', created('p1', 'ann'), renamed('b'), renamed('c'), renamed('d'));
    await append('t2', created('p2', 'ann'));
    await append('t1', moved('p2')); // 6: four events of history and the move at eff 6
    const whole = await read('paged', [P2]);
    expect(whole).toHaveLength(6);
    for (const limit of [1, 2, 3, 4]) {
      const paged = await readAllPages(db(), 'paged', [P2], limit);
      expect(paged.items.map(describeItem)).toEqual(whole);
      expect(paged.cursors).toEqual({ [P2]: 's6.6' });
    }
    const first = await readScopes(db(), 'paged', [{ scope: P2 }, { scope: ANN }], 3);
    expect(first.items.map(describeItem)).toEqual([
      `s1.1 event t1 v1 ${ANN}`,
      `s2.2 event t1 v2 ${ANN}`,
      `s3.3 event t1 v3 ${ANN}`,
    ]);
    expect(first).toMatchObject({ hasMore: true, cursors: { [P2]: 's3.3', [ANN]: 's3.3' } });
    const second = await readScopes(
      db(),
      'paged',
      [
        { scope: P2, after: 's3.3' },
        { scope: ANN, after: 's3.3' },
      ],
      3,
    );
    expect(second.items.map(describeItem)).toEqual([
      `s4.4 event t1 v4 ${ANN}`,
      `s5.5 event t2 v1 ${P2} ${ANN}`,
      `s6.1 event t1 v1 ${P2}`,
    ]);
    // Cut inside the join at eff 6: the next page goes on with pos 2 of it.
    expect(second.cursors).toEqual({ [P2]: 's6.1', [ANN]: 's6.1' });
    const third = await readScopes(
      db(),
      'paged',
      [
        { scope: P2, after: 's6.1' },
        { scope: ANN, after: 's6.1' },
        { scope: 'tenant', after: 's6.1' },
      ],
      10,
    );
    expect(third.items.map(describeItem)).toEqual([
      `s6.2 event t1 v2 ${P2}`,
      `s6.3 event t1 v3 ${P2}`,
      `s6.4 event t1 v4 ${P2}`,
      `s6.6 event t1 v5 ${P2} ${ANN} tenant`,
    ]);
  });

  it('caught-up scopes share one cursor; a scope ahead of a full page keeps its own', async () => {
    const { append } = scopedTaskStore(db(), 'caught-up');
    await append('t1', created('p1', 'ann'));
    await append('t2', created('p2', 'bob'));
    await append('t3', created('p1', 'bob'));
    const page = await readScopes(
      db(),
      'caught-up',
      [{ scope: P1 }, { scope: BOB }, { scope: P2 }],
      10,
    );
    expect(page.cursors).toEqual({ [P1]: 's3.3', [BOB]: 's3.3', [P2]: 's3.3' });
    // Nothing in ANN since the start: still (H, H).
    const empty = await readScopes(db(), 'caught-up', [{ scope: userKey('nobody') }], 10);
    expect(empty).toMatchObject({
      items: [],
      hasMore: false,
      cursors: { [userKey('nobody')]: 's3.3' },
    });
    // A full page of a scope from the start does not move a caught-up scope back.
    const mixed = await readScopes(
      db(),
      'caught-up',
      [{ scope: 'tenant' }, { scope: P2, after: 's3.3' }],
      1,
    );
    expect(mixed).toMatchObject({ hasMore: true, cursors: { tenant: 's1.1', [P2]: 's3.3' } });
  });

  it('a cursor past the tenant’s end, or one this log never makes, is INVALID_CURSOR', async () => {
    const { append } = scopedTaskStore(db(), 'ends');
    await append('t1', created('p1', 'ann'));
    await expect(readScopes(db(), 'ends', [{ scope: P1, after: 's2.2' }], 10)).rejects.toThrow(
      InvalidCursorError,
    );
    await expect(
      readScopes(db(), 'ends', [{ scope: P1 }, { scope: 'tenant', after: 's9.1' }], 10),
    ).rejects.toThrow(InvalidCursorError);
    await expect(readScopes(db(), 'ends', [{ scope: P1, after: 't1' }], 10)).rejects.toThrow(
      InvalidCursorError,
    );
    await expect(
      readScopes(db(), 'no-such-tenant', [{ scope: P1, after: 's1.1' }], 10),
    ).rejects.toThrow(InvalidCursorError);
    expect((await readScopes(db(), 'ends', [{ scope: P1, after: 's1.1' }], 10)).items).toEqual([]);
  });

  it('another tenant’s rows never appear, in the same scope key', async () => {
    await scopedTaskStore(db(), 'ours').append('t1', created('p1', 'ann'));
    await scopedTaskStore(db(), 'theirs').append('t9', created('p1', 'ann'), renamed('secret'));
    expect(await read('ours', [P1, ANN, 'tenant'])).toEqual([
      `s1.1 event t1 v1 ${P1} ${ANN} tenant`,
    ]);
    const page = await readScopes(db(), 'ours', [{ scope: P1 }], 10);
    expect(page.horizon).toBe(1);
  });

  it('a failing hook or a rollback leaves no scope rows and no membership', async () => {
    const { store, append } = scopedTaskStore(db(), 'rolled-back');
    await append('t1', created('p1', 'ann'));
    await expect(
      store.append({ aggregateType: 'Task', aggregateId: 't1' }, [moved('p2')], {
        expectedVersion: ANY,
        beforeCommit: () => {
          throw new Error('no');
        },
      }),
    ).rejects.toThrow('no');
    // Invalid data fails the fold inside the transaction: nothing is stored.
    await expect(append('t2', created('', 'ann'))).rejects.toThrow();
    const { rows } = await pglite().query<{ scope: string; eff: number }>(
      `SELECT scope, eff::int FROM strata_scope_rows WHERE tenant = 'rolled-back' ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { scope: ANN, eff: 1 },
      { scope: P1, eff: 1 },
    ]);
    const members = await pglite().query(
      `SELECT aggregate_id, scopes FROM strata_scope_memberships WHERE tenant = 'rolled-back'`,
    );
    expect(members.rows).toEqual([{ aggregate_id: 't1', scopes: [P1, ANN] }]);
  });

  it('types without a membership get no rows; the tenant scope still reads them', async () => {
    const { store, append } = scopedTaskStore(db(), 'notes');
    await store.append({ aggregateType: 'Note', aggregateId: 'n1' }, [renamed('not a task')], {
      expectedVersion: ANY,
    });
    await append('t1', created('p1', 'ann'));
    expect(await read('notes', [P1, 'tenant'])).toEqual([
      's1.1 event n1 v1 tenant',
      `s2.2 event t1 v1 ${P1} tenant`,
    ]);
    expect(
      await currentScopes(db(), 'notes', { aggregateType: 'Note', aggregateId: 'n1' }),
    ).toEqual([]);
  });

  it('an aggregate written before its type kept scopes joins them, history and all, at its next event', async () => {
    const plain = createPostgresEventStore(db(), { tenant: 'before-scopes' });
    await plain.append({ aggregateType: 'Task', aggregateId: 't1' }, [created('p1', 'ann')], {
      expectedVersion: ANY,
    });
    const { append } = scopedTaskStore(db(), 'before-scopes');
    await append('t1', reassigned('bob'));
    expect(await read('before-scopes', [P1, ANN, BOB])).toEqual([
      `s2.1 event t1 v1 ${P1} ${BOB}`,
      `s2.2 event t1 v2 ${P1} ${BOB}`,
    ]);
  });

  it('encrypted streams: the fold sees plaintext, the rows hold no payload, the read decrypts', async () => {
    const store = createPostgresEventStore(db(), {
      tenant: 'sealed',
      appendHooks: [scopeRowsHook([taskScopes])],
      encryption: encryptAggregates(['Task']),
    });
    await store.append(
      { aggregateType: 'Task', aggregateId: 't1' },
      [created('p1', 'ann', 'secret')],
      {
        expectedVersion: ANY,
      },
    );
    await store.append({ aggregateType: 'Task', aggregateId: 't1' }, [moved('p2')], {
      expectedVersion: ANY,
    });
    const stored = await pglite().query<{ data: unknown }>(
      `SELECT data FROM strata_events WHERE tenant = 'sealed' ORDER BY tenant_position`,
    );
    expect(JSON.stringify(stored.rows)).not.toContain('secret');
    const page = await readScopes(db(), 'sealed', [{ scope: P2 }], 10);
    expect(page.items.map((item) => (item.kind === 'event' ? item.event.data : item.kind))).toEqual(
      [{ projectId: 'p1', title: 'secret', assignee: 'ann' }, { projectId: 'p2' }],
    );
  });

  it('refuses two memberships of one type, an empty read, a scope twice and a bad limit', async () => {
    expect(() => scopeRowsHook([taskScopes, taskScopes])).toThrow(TypeError);
    await expect(readScopes(db(), 'x', [], 10)).rejects.toThrow(RangeError);
    await expect(readScopes(db(), 'x', [{ scope: P1 }, { scope: P1 }], 10)).rejects.toThrow(
      RangeError,
    );
    await expect(readScopes(db(), 'x', [{ scope: P1 }], 0)).rejects.toThrow(RangeError);
  });
});
