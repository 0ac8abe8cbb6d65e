import { PGlite } from '@electric-sql/pglite';
import { DomainRuleViolatedError, defineAsyncReactor, defineSyncReactor } from '@strata/core';
import { createSyncApp, migrate, pgliteDatabase } from '@strata/edge-server';
import { createConsumerGroup } from '@strata/edge-server/consumer-groups';
import { encryptAggregates, forgetAggregate } from '@strata/edge-server/crypto';
import { createOutboxRelay, outboxWriter } from '@strata/edge-server/outbox';
import { createProjectionRunner, defineAsyncProjection } from '@strata/edge-server/projections';
import { asyncReactorOutbox, syncReactors } from '@strata/edge-server/reactors';
import { Todo } from '@strata/example-todo';

const database = pgliteDatabase(await PGlite.create()); // neonDatabase(pool) in production
await migrate(database);

// In the append's transaction: a throw rejects the commit.
const noShouting = defineSyncReactor({
  name: 'no-shouting',
  aggregate: Todo,
  react(event) {
    if (event.type === 'TodoAdded' && event.data.title === event.data.title.toUpperCase())
      throw new DomainRuleViolatedError('SHOUTING', 'Please do not shout');
  },
});
// After commit, at least once, through the transactional outbox and a relay.
const notify = defineAsyncReactor({
  name: 'notify',
  aggregate: Todo,
  react: (event) => console.log('notify:', event.type),
});
const reactors = asyncReactorOutbox([notify]);

const app = createSyncApp({
  database,
  authenticate: async () => ({ tenant: 'acme', subject: 'ann' }), // jwtAuthentication({ secret })
  aggregates: [Todo],
  appendHooks: [syncReactors([noShouting]), outboxWriter(reactors.routes)],
  encryption: encryptAggregates(['Todo']), // payloads at rest under a key per todo
});
// The server decides commands itself (authority `decide`): a thin client posts one to
// /v2/commands; devices push theirs with /v2/push, and their events are only a prediction.
const addTodo = async (aggregateId: string, title: string) => {
  const response = await app.request('/v2/commands', {
    method: 'POST',
    headers: { 'content-type': 'application/json' }, // other bodies answer 415
    body: JSON.stringify({ aggregateType: 'Todo', aggregateId, name: 'add', input: { title } }),
  });
  const answer = await response.json(); // { events } or a problem+json with its code
  return response.ok
    ? `stored ${answer.events[0].type} by ${answer.events[0].metadata.userId}`
    : answer.code;
};
console.log(await addTodo('t1', 'Buy milk'), await addTodo('t2', 'BUY BEER'));

await createOutboxRelay({ database, sinks: reactors.sinks }).runOnce();

// A read model in Postgres, kept from the global order; `rebuildProjection` replays it.
const titles = defineAsyncProjection({
  name: 'titles',
  aggregate: Todo,
  setup: (tx) => tx.query('CREATE TABLE IF NOT EXISTS titles (id text PRIMARY KEY, title text)'),
  reset: (tx) => tx.query('TRUNCATE titles'),
  apply: async (event, { transaction }) => {
    if (event.type === 'TodoAdded')
      await transaction.query('INSERT INTO titles VALUES ($1, $2)', [
        event.aggregateId,
        event.data.title,
      ]);
  },
});
await createProjectionRunner({ database, projections: [titles] }).catchUp();
console.log((await database.query('SELECT * FROM titles')).rows);

// Competing consumers share a group's events; its checkpoints live in Postgres.
const mailer = createConsumerGroup({
  database,
  group: 'mailer',
  handler: (event) => console.log('mail about', event.aggregateId),
});
await mailer.runOnce();
await mailer.stop();

// Crypto-shredding: without its key, the todo's payloads are gone for every reader.
await forgetAggregate(database, {
  tenant: 'acme',
  stream: { aggregateType: 'Todo', aggregateId: 't1' },
});
const history = await (await app.request('/v1/streams/Todo/t1/events')).json();
console.log(history.events[0].data.$forgotten);
await app.close();
// accepted DOMAIN_RULE_VIOLATED
// notify: TodoAdded
// [ { id: 't1', title: 'Buy milk' } ]
// mail about t1
// true
