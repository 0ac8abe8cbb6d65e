import { PGlite } from '@electric-sql/pglite';
import { createStrata, startSync } from '@strata/browser';
import { createSyncApp, migrate, pgliteDatabase } from '@strata/edge-server';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';

// Who works on which project: the server's business (a table in a real app).
const members: Record<string, string[]> = { ann: ['apollo'], bob: ['zeus'] };

const database = pgliteDatabase(await PGlite.create());
await migrate(database);
const server = createSyncApp({
  database,
  // jwtAuthentication({ secret }) in production; here the bearer token is the user's name.
  authenticate: async (request) => ({
    tenant: 'acme',
    subject: request.headers.get('authorization')?.slice('Bearer '.length) ?? '',
  }),
  aggregates: [Task],
  scopes: {
    definitions: [project, assignedTo],
    membership: [taskScopes], // a task is in project(its projectId) and assignedTo(its assignee)
    rules: {
      project: (principal, { projectId }) =>
        members[principal.subject]?.includes(projectId) === true,
      assignedTo: (principal, { userId }) => principal.subject === userId,
    },
  },
});

async function device(user: string, projectId: string) {
  const strata = await createStrata({
    name: `tasks-${user}`,
    principal: { userId: user, tenant: 'acme', claims: {} },
  });
  const sync = startSync(strata, {
    url: 'http://localhost/',
    fetch: async (input, init) =>
      server.request(input instanceof Request ? input : String(input), init),
    token: () => user,
    aggregates: [Task],
    scopes: [project({ projectId }), assignedTo({ userId: user })],
  });
  return { strata, sync };
}
const ann = await device('ann', 'apollo');
const bob = await device('bob', 'zeus');
await ann.strata.execute(Task, 'launch', 'create', {
  projectId: 'apollo',
  title: 'Launch',
  assignee: 'ann',
});
await bob.strata.execute(Task, 'storm', 'create', {
  projectId: 'zeus',
  title: 'Storm',
  assignee: 'bob',
});
// Ann hands her task to Bob: it joins assignedTo(bob), so Bob's device receives all of it.
const arrived = new Promise((resolve) =>
  bob.strata.liveState(Task, 'launch').subscribe(({ state }) => {
    if (state.assignee === 'bob') resolve(state.title);
  }),
);
await ann.strata.execute(Task, 'launch', 'reassign', { assignee: 'bob' });
console.log(await arrived);

const ids = async (strata: typeof ann.strata) => [...(await strata.loadAll(Task)).keys()].sort();
console.log(await ids(ann.strata), await ids(bob.strata));
// A client asking for a scope it may not hold is refused, and reads nothing.
const refused = await server.request('/v2/pull', {
  method: 'POST',
  headers: { authorization: 'Bearer bob', 'content-type': 'application/json' },
  body: JSON.stringify({ scopes: [{ scope: project({ projectId: 'apollo' }).key }] }),
});
console.log(refused.status, (await refused.json()).scopes);
// Launch
// [ 'launch' ] [ 'launch', 'storm' ]
// 403 [ 'project:{"projectId":"apollo"}' ]
