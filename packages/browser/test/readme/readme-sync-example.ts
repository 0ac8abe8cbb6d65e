import { createStrata, startSync } from '@strata/browser';
import { Todo } from '@strata/example-todo';

const strata = await createStrata({ name: 'my-synced-app' });
const sync = startSync(strata, {
  url: location.origin, // the edge server; here it serves the app too
  aggregates: [Todo], // after a conflict, their pending commands re-run on the server's state
  onRejected: (commands) => console.warn('no longer valid:', commands),
});
sync.status.subscribe(({ leader, connected, pending }) =>
  console.log({ leader, connected, pending }),
);

await strata.execute(Todo, 'todo-1', 'add', { title: 'Buy milk' }); // offline or not
await sync.whenSynced();
console.log(await strata.pendingCommands());
// { leader: true, connected: true, pending: 0 } (once synced)
// []
