import { ANY, type NewEvent } from '@strata/core';
import { taskScopes } from '@strata/example-todo';
import { expect, it } from 'vitest';
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
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { indexScopes } from './index-scopes.ts';

const pglite = useMigratedPglite();
const db = () => pgliteDatabase(pglite());
const ALL = [projectKey('p1'), projectKey('p2'), userKey('ann'), userKey('bob')];

/** The same history in two tenants: `live` kept its scopes as it was written, `late` did not. */
const history: [string, NewEvent][] = [
  ['t1', created('p1', 'ann')],
  ['t2', created('p2', 'bob')],
  ['t1', reassigned('bob')],
  ['t2', moved('p1')],
  ['t1', renamed('later')],
  ['t3', created('p2', 'ann')],
];

const read = async (tenant: string) =>
  (await readAllPages(db(), tenant, ALL, 2)).items.map(describeItem);
/** What a reader of all scopes ends holding: per scope, its aggregates and their versions. */
const holdings = async (tenant: string) => {
  const held = new Map<string, Map<string, number[]>>();
  for (const item of (await readAllPages(db(), tenant, ALL, 2)).items) {
    if (item.kind === 'left') held.get(item.scope)?.delete(item.aggregateId);
    if (item.kind !== 'event') continue;
    for (const scope of item.scopes) {
      const aggregates = held.get(scope) ?? new Map<string, number[]>();
      aggregates.set(item.event.aggregateId, [
        ...(aggregates.get(item.event.aggregateId) ?? []),
        item.event.version,
      ]);
      held.set(scope, aggregates);
    }
  }
  return Object.fromEntries(
    [...held].map(([scope, aggregates]) => [scope, Object.fromEntries([...aggregates].sort())]),
  );
};
const memberships = async (tenant: string) =>
  (
    await db().query<{ aggregate_id: string; scopes: string[] }>(
      `SELECT aggregate_id, scopes FROM strata_scope_memberships WHERE tenant = $1 ORDER BY aggregate_id`,
      [tenant],
    )
  ).rows;

it('places aggregates stored before their type had a membership as the hook would have, once', async () => {
  const live = scopedTaskStore(db(), 'live');
  const late = createPostgresEventStore(db(), { tenant: 'late' });
  for (const [taskId, event] of history) {
    await live.append(taskId, { ...event });
    await late.append({ aggregateType: 'Task', aggregateId: taskId }, [{ ...event }], {
      expectedVersion: ANY,
    });
  }
  expect(await read('late')).toEqual([]);

  const result = await indexScopes(db(), [taskScopes], { batchSize: 2 });
  expect(result).toEqual({ aggregates: 3, types: ['Task'] });
  // Placed in one go, each aggregate's history is one append's net effect: a reader of `late`
  // ends holding what a reader of `live` holds (the scopes a task joined and left since, like
  // t1 in ann's, hold nothing of it, not even a left).
  expect(await holdings('late')).toEqual(await holdings('live'));

  expect(await memberships('late')).toEqual(await memberships('live'));

  // Remembered: a restart does not look again, and writes nothing twice.
  const rows = await db().query('SELECT count(*)::int AS n FROM strata_scope_rows');
  expect(await indexScopes(db(), [taskScopes])).toEqual({ aggregates: 0, types: [] });
  expect((await db().query('SELECT count(*)::int AS n FROM strata_scope_rows')).rows).toEqual(
    rows.rows,
  );

  // The next event continues from the placed scopes: no second join of the history.
  await live.append('t3', reassigned('bob'));
  await scopedTaskStore(db(), 'late').append('t3', reassigned('bob'));
  expect(await holdings('late')).toEqual(await holdings('live'));
});

it('leaves alone an aggregate whose scopes are recorded', async () => {
  await db().query('DELETE FROM strata_scope_indexed_types');
  const placed = scopedTaskStore(db(), 'placed');
  await placed.append('t1', created('p1', 'ann'));
  const before = await read('placed');
  const result = await indexScopes(db(), [taskScopes]);
  expect(result.types).toEqual(['Task']);
  expect(await read('placed')).toEqual(before);
});

it('passes over aggregates its fold cannot read, in pages, without looping', async () => {
  await db().query('DELETE FROM strata_scope_indexed_types');
  const unreadable = createPostgresEventStore(db(), { tenant: 'unreadable' });
  for (const id of ['u1', 'u2', 'u3']) {
    // Stored by a server without the schema: the fold's decode refuses the data.
    await unreadable.append(
      { aggregateType: 'Task', aggregateId: id },
      [{ ...created('p1', 'ann'), data: { projectId: 42 } }],
      { expectedVersion: ANY },
    );
  }
  const result = await indexScopes(db(), [taskScopes], { batchSize: 1 });
  expect(result.types).toEqual(['Task']);
  expect(await memberships('unreadable')).toEqual([]);
});
