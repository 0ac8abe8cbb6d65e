import { defineInlineProjection, NO_STREAM, newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import {
  todoListProjection,
  todoListRows,
} from '../../test/fixtures/projections/todo-list-projection.ts';
import { writeTodosConcurrently } from '../../test/fixtures/projections/todo-writers.ts';
import type { AppendContext } from '../postgres/append-hook.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import type { AsyncProjection } from './async-projection.ts';
import { inlineProjections } from './inline-projections.ts';
import { projectBatch } from './project-batch.ts';
import { createProjectionRunner } from './projection-runner.ts';

const pglite = useMigratedPglite();
const db = () => pgliteDatabase(pglite());

const checkpointOf = async (database: SqlDatabase, name: string) =>
  (
    await database.query<{ cursor: string }>(
      'SELECT cursor FROM strata_projection_checkpoints WHERE name = $1',
      [name],
    )
  ).rows[0]?.cursor;

describe('async projections', () => {
  it('a failing batch commits nothing: no rows, no checkpoint; the runner retries it', async () => {
    const database = db();
    await writeTodosConcurrently(database, {
      writers: 1,
      todosPerWriter: 3,
      eventsPerTodo: 2,
      tenants: ['fail'],
    });
    let failures = 1;
    const flaky: AsyncProjection = {
      ...todoListProjection,
      name: 'flaky',
      async apply(event, context) {
        await todoListProjection.apply(event, context);
        // The batch's first events were written before the throw: they must roll back too.
        if (event.aggregateId === 'w0-t2' && failures-- > 0) throw new Error('disk full');
      },
    };
    await database.transaction(async (tx) => flaky.setup?.(tx));
    await expect(projectBatch(database, flaky, 100)).rejects.toThrow('disk full');
    expect(await todoListRows(database)).toEqual([]);
    expect(await checkpointOf(database, 'flaky')).toBeUndefined();

    const errors: unknown[] = [];
    failures = 1;
    const runner = createProjectionRunner({
      database,
      projections: [flaky],
      pollIntervalMs: 5,
      onError: (error) => errors.push(error),
    });
    await runner.start();
    const deadline = Date.now() + 10_000;
    while ((await todoListRows(database)).length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await runner.stop();
    expect(errors).toEqual([new Error('disk full')]);
    expect(await todoListRows(database)).toHaveLength(3);
    const { rows } = await database.query('SELECT 1 FROM todo_list WHERE applied <> version');
    expect(rows).toEqual([]);
    await database.query('TRUNCATE todo_list');
  });

  it('only receives its aggregate, decoded: old TodoAdded versions arrive upcast', async () => {
    const database = db();
    const store = createPostgresEventStore(database, { tenant: 'upcast' });
    const event = (type: string, schemaVersion: number, data: unknown) => ({
      id: newKsuid(),
      type,
      schemaVersion,
      occurredAt: new Date().toISOString(),
      data,
      metadata: {},
    });
    await store.append(
      { aggregateType: 'Todo', aggregateId: 'old' },
      [event('TodoAdded', 1, { text: 'v1 title' })],
      {
        expectedVersion: NO_STREAM,
      },
    );
    await store.append({ aggregateType: 'Note', aggregateId: 'n' }, [event('Noted', 1, {})], {
      expectedVersion: NO_STREAM,
    });
    const runner = createProjectionRunner({ database, projections: [todoListProjection] });
    const read = await runner.catchUp();
    expect(read['todo-list']).toBeGreaterThanOrEqual(2); // the Note was read, and skipped
    const { rows } = await database.query(
      "SELECT title, version, applied FROM todo_list WHERE tenant = 'upcast'",
    );
    expect(rows).toEqual([{ title: 'v1 title', version: 1, applied: 1 }]);
  });

  it('inline projections write in the append transaction and veto it by throwing', async () => {
    const database = db();
    await database.query('CREATE TABLE titles (tenant text, id text, title text)');
    const titles = defineInlineProjection({
      name: 'titles',
      aggregate: Todo,
      async apply(event, { tenant, transaction }: AppendContext) {
        if (event.type !== 'TodoAdded') return;
        if (event.data.title === 'veto') throw new Error('no');
        await transaction.query('INSERT INTO titles VALUES ($1, $2, $3)', [
          tenant,
          event.aggregateId,
          event.data.title,
        ]);
      },
    });
    const store = createPostgresEventStore(database, {
      tenant: 'inline',
      appendHooks: [inlineProjections([titles])],
    });
    const add = (id: string, title: string) =>
      store.append(
        { aggregateType: 'Todo', aggregateId: id },
        [
          {
            id: newKsuid(),
            type: 'TodoAdded',
            schemaVersion: 2,
            occurredAt: new Date().toISOString(),
            data: { title },
            metadata: {},
          },
        ],
        { expectedVersion: NO_STREAM },
      );
    await add('kept', 'kept');
    await expect(add('vetoed', 'veto')).rejects.toThrow('no');
    expect((await database.query('SELECT id FROM titles')).rows).toEqual([{ id: 'kept' }]);
    expect(await store.readStream({ aggregateType: 'Todo', aggregateId: 'vetoed' })).toEqual([]);
  });
});
