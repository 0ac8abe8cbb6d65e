import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  todoListProjection,
  todoListRows,
} from '../../test/fixtures/projections/todo-list-projection.ts';
import { writeTodosConcurrently } from '../../test/fixtures/projections/todo-writers.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { createProjectionRunner } from './projection-runner.ts';
import { type RebuildProgress, rebuildProjection } from './rebuild-projection.ts';

let testDatabase: TestDatabase;
let pool: Pool;
let database: SqlDatabase;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  pool = testDatabase.createPool({ max: 16 });
  database = neonDatabase(pool);
  await migrate(database);
});

afterAll(async () => {
  await pool?.end();
  await testDatabase?.drop();
});

/** Waits until every row of the projection has applied all `expected` events. */
async function caughtUp(expected: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await database.query<{ applied: string | null }>(
      'SELECT sum(applied) AS applied FROM todo_list',
    );
    if (Number(rows[0]?.applied ?? 0) === expected) return;
    if (Date.now() > deadline) throw new Error(`projected ${rows[0]?.applied} of ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('async projections on Postgres (Neon driver)', () => {
  it('two live runners under concurrent writers apply every event once; a rebuild equals the live table', async () => {
    // Two instances' runners, started before the writes: they take turns on one checkpoint.
    const runners = [1, 2].map(() =>
      createProjectionRunner({
        database,
        projections: [todoListProjection],
        batchSize: 37,
        pollIntervalMs: 5,
        onError: (error) => {
          throw error;
        },
      }),
    );
    await Promise.all(runners.map((runner) => runner.start()));
    const appended = await writeTodosConcurrently(database, {
      writers: 8,
      todosPerWriter: 6,
      eventsPerTodo: 8,
      tenants: ['tenant-a', 'tenant-b'],
    });
    expect(appended).toBe(8 * 6 * 8);
    await caughtUp(appended);
    await Promise.all(runners.map((runner) => runner.stop()));

    const live = await todoListRows(database);
    expect(live).toHaveLength(8 * 6);
    // Every event applied exactly once, none skipped: each row's count of applied events is its version.
    const { rows: wrong } = await database.query(
      'SELECT tenant, id FROM todo_list WHERE applied <> version OR version <> 8',
    );
    expect(wrong).toEqual([]);

    const progress: RebuildProgress[] = [];
    const read = await rebuildProjection(database, todoListProjection, {
      batchSize: 100,
      onProgress: (step) => progress.push(step),
    });
    expect(read).toBe(appended);
    expect(await todoListRows(database)).toEqual(live);
    expect(progress[0]).toEqual({ projection: 'todo-list', processed: 0, total: appended });
    expect(progress.at(-1)).toEqual({
      projection: 'todo-list',
      processed: appended,
      total: appended,
    });
    expect(progress.length).toBeGreaterThan(3); // batch by batch, not one step
  });
});
