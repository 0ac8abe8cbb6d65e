import { DomainRuleViolatedError, defineSyncReactor, PushResponseSchema } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import type { AppendContext } from '../postgres/append-hook.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { syncReactors } from './sync-reactors.ts';

const pglite = useMigratedPglite();

/** Keeps an audit row per added todo, in the append's transaction; refuses two titles. */
const audit = defineSyncReactor({
  name: 'audit',
  aggregate: Todo,
  async react(event, { transaction, tenant }: AppendContext) {
    if (event.type !== 'TodoAdded') return;
    await transaction.query('INSERT INTO todo_audit (tenant, todo_id, title) VALUES ($1, $2, $3)', [
      tenant,
      event.aggregateId,
      event.data.title, // decoded and upcast: typed as the current schema
    ]);
  },
});
const vetoes = defineSyncReactor({
  name: 'vetoes',
  aggregate: Todo,
  react(event) {
    if (event.type !== 'TodoAdded') return;
    if (event.data.title === 'crash') throw new Error('the title crashes the reactor');
    if (event.data.title === 'rude') throw new DomainRuleViolatedError('RUDE', 'Be nice');
  },
});

async function setUp(tenant: string) {
  const db = pgliteDatabase(pglite());
  await db.query(
    'CREATE TABLE IF NOT EXISTS todo_audit (tenant text, todo_id text PRIMARY KEY, title text)',
  );
  const app = createSyncApp({
    database: db,
    authenticate: async () => ({ tenant, subject: 'user-1' }),
    aggregates: [Todo],
    authority: { Todo: 'events' },
    appendHooks: [syncReactors([audit, vetoes])],
  });
  const push = async (...commits: ReturnType<typeof commit>[]) => {
    const response = await app.request('/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'c1', commits }),
    });
    return PushResponseSchema.parse(await response.json()).results;
  };
  const auditRows = async () =>
    (
      await db.query<{ todo_id: string }>(
        'SELECT todo_id FROM todo_audit WHERE tenant = $1 ORDER BY todo_id',
        [tenant],
      )
    ).rows.map((row) => row.todo_id);
  const storedIds = async () =>
    (
      await db.query<{ aggregate_id: string }>(
        'SELECT aggregate_id FROM strata_events WHERE tenant = $1 ORDER BY aggregate_id',
        [tenant],
      )
    ).rows.map((row) => row.aggregate_id);
  return { app, push, auditRows, storedIds };
}

describe('server sync reactors', () => {
  it('write in the append transaction: the reactor row commits with the events', async () => {
    const { push, auditRows, storedIds } = await setUp('t-commit');
    const results = await push(commit('c1', todoEvent('a1', 1)));
    expect(results[0]?.status).toBe('accepted');
    expect(await auditRows()).toEqual(['a1']);
    expect(await storedIds()).toEqual(['a1']);
  });

  it('a throw rejects only that commit with REACTOR_REJECTED; nothing of it is stored', async () => {
    const { push, auditRows, storedIds } = await setUp('t-crash');
    const results = await push(
      commit('bad', todoEvent('b1', 1, 'TodoAdded', { title: 'crash' })),
      commit('good', todoEvent('b2', 1)),
    );
    expect(results.map((result) => result.status)).toEqual(['rejected', 'accepted']);
    const rejected = results[0];
    expect(rejected?.status === 'rejected' && rejected.code).toBe('REACTOR_REJECTED');
    expect(rejected?.status === 'rejected' && rejected.message).toContain(
      'Reactor vetoes rejected TodoAdded of Todo/b1: the title crashes the reactor',
    );
    // The audit reactor ran before the veto: its row rolled back with the events.
    expect(await auditRows()).toEqual(['b2']);
    expect(await storedIds()).toEqual(['b2']);
  });

  it("strata errors keep their own code (the client's rebase reports it as is)", async () => {
    const { push, storedIds } = await setUp('t-rude');
    const [result] = await push(commit('c', todoEvent('r1', 1, 'TodoAdded', { title: 'rude' })));
    expect(result?.status === 'rejected' && result.code).toBe('DOMAIN_RULE_VIOLATED');
    expect(await storedIds()).toEqual([]);
  });

  it('do not run again for a retried push of stored events', async () => {
    const { push, auditRows } = await setUp('t-retry');
    const added = commit('c', todoEvent('d1', 1));
    await push(added);
    await pglite().query('DELETE FROM todo_audit WHERE todo_id = $1', ['d1']);
    const [again] = await push(added);
    expect(again?.status).toBe('accepted');
    expect(await auditRows()).toEqual([]);
  });
});
