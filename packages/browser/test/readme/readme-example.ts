import { createStrata, type StrataTransaction } from '@strata/browser';
import { defineInlineProjection } from '@strata/core';
import { Todo } from '@strata/example-todo';

const todoList = defineInlineProjection({
  name: 'todo-list',
  aggregate: Todo,
  async apply(event, tx: StrataTransaction) {
    if (event.type === 'TodoAdded') {
      await tx.table('todos').put({ id: event.aggregateId, title: event.data.title });
    }
    if (event.type === 'TodoRemoved') await tx.table('todos').delete(event.aggregateId);
  },
});

const strata = await createStrata({
  name: 'my-app', // the IndexedDB database
  tables: { todos: 'id' }, // projection tables, in Dexie's schema syntax
  tablesVersion: 1, // bump when `tables` change (Dexie's versioned migrations)
  projections: [todoList],
});

// One Dexie transaction: the events, the pending command, the projection rows, a due snapshot.
await strata.execute(Todo, 'todo-1', 'add', { title: 'Buy milk' });

strata.live(() => strata.db.table('todos').toArray()).subscribe((rows) => console.log(rows));
strata.liveState(Todo, 'todo-1').subscribe(({ state, version }) => console.log(state, version));
// [ { id: 'todo-1', title: 'Buy milk' } ]
// { status: 'active', title: 'Buy milk' } 1
