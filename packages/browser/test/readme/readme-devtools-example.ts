import { createStrata } from '@strata/browser';
import { inspectStrata } from '@strata/browser/devtools';
import { Todo } from '@strata/example-todo';

const strata = await createStrata({ name: 'my-inspected-app' });
await strata.execute(Todo, 'todo-1', 'add', { title: 'Buy milk' });

// Pass `sync` too (from startSync) for `inspect.status` and `inspect.timeline`.
const inspect = inspectStrata(strata, { aggregates: [Todo] });
inspect.log({ aggregateType: 'Todo', limit: 20 }).subscribe(({ entries, total }) =>
  console.log(
    total,
    entries.map((e) => `${e.aggregateId} v${e.version} ${e.type} ${e.status}`),
  ),
);
inspect.aggregate('Todo', 'todo-1').subscribe(({ state, version }) => console.log(state, version));
inspect.outbox().subscribe(({ total }) => console.log(`${total} pending`));
// 1 [ 'todo-1 v1 TodoAdded pending' ]
// { status: 'active', title: 'Buy milk' } 1
// 1 pending
