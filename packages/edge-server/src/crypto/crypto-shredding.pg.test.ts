import {
  decryptEventData,
  defineAggregate,
  defineEvent,
  type EventStore,
  encryptEventData,
  generateStreamKey,
  isEncryptedPayload,
  isForgotten,
  loadAggregate,
  newKsuid,
  type PullResponse,
  payloadBinding,
  type StreamKey,
  type SubscriptionMessage,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
import { createTestDatabase, type TestDatabase } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  type FetchLike,
  type SyncClient,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jwtAuthentication } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { encryptAggregates } from './encryption-options.ts';

// Issue 7, against real Postgres through the Neon driver: encrypted at rest, readable through
// every API while the key exists, and after the key is deleted no API returns the plaintext,
// while replay still works.
const Registered = defineEvent('Registered', z.object({ name: z.string(), email: z.string() }));
const Noted = defineEvent('Noted', z.object({ note: z.string() }));
const Patient = defineAggregate({
  type: 'Patient',
  events: [Registered, Noted],
  initialState: () => ({ registered: false, name: '', notes: 0 }),
  evolve: (state, event) =>
    event.type === 'Registered'
      ? { ...state, registered: true, name: event.data.name }
      : { ...state, notes: state.notes + 1 },
  // The patient stays registered (the event happened), but who it was is gone.
  forget: (state, event) =>
    event.type === 'Registered'
      ? { ...state, registered: true, name: '' }
      : { ...state, notes: state.notes + 1 },
});

const SECRET = 'crypto-shredding-secret';
const TENANT = 'clinic-a';
// Distinctive strings that must never show up at rest, and nowhere once forgotten.
const SECRET_NAME = 'Ada Qzxlovelace';
const SECRET_EMAIL = 'ada.qzx@example.com';
const SECRET_NOTE = 'allergic-to-qzxpenicillin';
const OTHER_NAME = 'Grace Qzyhopper';

const patientEvent = (aggregateId: string, version: number, type: string, data: unknown) => ({
  id: newKsuid(),
  type,
  schemaVersion: 1,
  aggregateType: 'Patient',
  aggregateId,
  version,
  occurredAt: new Date().toISOString(),
  data,
  metadata: { commandId: `cmd-${aggregateId}-${version}` },
});

let testDatabase: TestDatabase;
let pool: ReturnType<TestDatabase['createPool']>;
let database: SqlDatabase;
let app: SyncApp;
let client: SyncClient;
let otherTenant: SyncClient;
let headers: Record<string, string>;

const p1Registered = patientEvent('p1', 1, 'Registered', {
  name: SECRET_NAME,
  email: SECRET_EMAIL,
});
const p1Noted = patientEvent('p1', 2, 'Noted', { note: SECRET_NOTE });
const p1 = [p1Registered, p1Noted];
const p2 = patientEvent('p2', 1, 'Registered', { name: OTHER_NAME, email: 'g@example.com' });
const todo = todoEvent('t1', 1);

/** Everything Postgres holds for the app, as text: every row of every strata table. */
async function everyRow(): Promise<string> {
  const { rows: tables } = await database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_name LIKE 'strata\\_%'`,
  );
  const dumps: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await database.query<{ row: string }>(
      `SELECT t::text AS row FROM ${table_name} t`,
    );
    dumps.push(...rows.map((row) => `${table_name}: ${row.row}`));
  }
  return dumps.join('\n');
}

const containsSecret = (text: string) =>
  [SECRET_NAME, SECRET_EMAIL, SECRET_NOTE].some((secret) => text.includes(secret));

/** A subscription from the start until caught up, as the raw text of its messages. */
async function subscribedUntilCaughtUp(
  subscriber: SyncClient = client,
): Promise<SubscriptionMessage[]> {
  const subscription = await subscriber.subscribe();
  try {
    return await subscription.next((messages) =>
      messages.some((message) => message.kind === 'caught-up'),
    );
  } finally {
    subscription.close();
  }
}

const eventsOf = (messages: readonly SubscriptionMessage[]) =>
  messages.flatMap((message) => (message.kind === 'event' ? [message.event] : []));
const dataById = (events: readonly { id: string; data: unknown }[]) =>
  new Map(events.map((event) => [event.id, event.data]));
const store = () => createPostgresEventStore(database, { tenant: TENANT });

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  pool = testDatabase.createPool({ max: 6 });
  database = neonDatabase(pool);
  await migrate(database);
  app = createSyncApp({
    database,
    authenticate: jwtAuthentication({ secret: SECRET }),
    aggregates: [Patient, Todo],
    authority: { Patient: 'events', Todo: 'events' },
    encryption: encryptAggregates(['Patient']),
    onError: () => undefined,
    pollIntervalMs: 50,
  });
  const fetchApp: FetchLike = async (path, init) => app.request(path, init);
  const token = await bearerToken(SECRET, TENANT);
  headers = { authorization: `Bearer ${token}` };
  client = syncClient(fetchApp, { token });
  otherTenant = syncClient(fetchApp, { token: await bearerToken(SECRET, 'clinic-b') });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await testDatabase?.drop();
});

describe('crypto-shredding on Postgres (Neon driver)', () => {
  it('stores pushed payloads of encrypted aggregates as ciphertext only', async () => {
    const { results } = await client.push(
      { commitId: 'c1', events: p1 },
      { commitId: 'c2', events: [p2] },
      { commitId: 'c3', events: [todo] },
    );
    expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted', 'accepted']);

    const { rows } = await database.query<{ aggregate_type: string; data: unknown }>(
      'SELECT aggregate_type, data FROM strata_events WHERE tenant = $1 ORDER BY position',
      [TENANT],
    );
    const patients = rows.filter((row) => row.aggregate_type === 'Patient');
    expect(patients).toHaveLength(3);
    expect(patients.every((row) => isEncryptedPayload(row.data))).toBe(true);
    const dump = await everyRow();
    expect(containsSecret(dump)).toBe(false);
    expect(dump).not.toContain(OTHER_NAME);
    // Aggregates that are not encrypted are stored as they were.
    expect(dump).toContain('todo t1');
    const { rows: keys } = await database.query(
      'SELECT kid FROM strata_encryption_keys WHERE tenant = $1',
      [TENANT],
    );
    expect(keys).toHaveLength(2); // one per Patient stream
  });

  it('still validates plaintext against the aggregate before encrypting it', async () => {
    const { results } = await client.push({
      commitId: 'bad',
      events: [patientEvent('p9', 1, 'Registered', { name: 42 })],
    });
    expect(results[0]).toMatchObject({ status: 'rejected', code: 'VALIDATION_FAILED' });
    const forged = await client.push({
      commitId: 'forged',
      events: [patientEvent('p9', 1, 'Registered', { $forgotten: true, kid: 'k' })],
    });
    expect(forged.results[0]).toMatchObject({ status: 'rejected', code: 'VALIDATION_FAILED' });
  });

  it('recognises a retried push although each encryption would differ', async () => {
    const before = await client.pullAll();
    const { results } = await client.push({ commitId: 'c1-again', events: p1 });
    expect(results[0]).toMatchObject({ status: 'accepted' });
    const positions = before.filter((event) => event.aggregateId === 'p1').map((e) => e.position);
    expect(results[0]?.status === 'accepted' && results[0].positions).toEqual(positions);
    expect(await client.pullAll()).toHaveLength(before.length);
  });

  it('serves plaintext through pull, subscribe and the store while the key exists', async () => {
    const pulled = dataById(await client.pullAll());
    expect(pulled.get(p1Registered.id)).toEqual(p1Registered.data);
    expect(pulled.get(p1Noted.id)).toEqual(p1Noted.data);
    expect(pulled.get(p2.id)).toEqual(p2.data);

    const subscribed = dataById(eventsOf(await subscribedUntilCaughtUp()));
    expect(subscribed.get(p1Noted.id)).toEqual({ note: SECRET_NOTE });

    const stream = await store().readStream({ aggregateType: 'Patient', aggregateId: 'p1' });
    expect(stream.map((event) => event.data)).toEqual([p1Registered.data, p1Noted.data]);
    const loaded = await loadAggregate(store() as EventStore<never>, Patient, 'p1');
    expect(loaded.state).toEqual({ registered: true, name: SECRET_NAME, notes: 1 });
  });

  it('delivers live subscription events decrypted', async () => {
    const subscription = await client.subscribe();
    try {
      await subscription.next((messages) => messages.some((m) => m.kind === 'caught-up'));
      const live = patientEvent('p2', 2, 'Noted', { note: 'live note' });
      await client.push({ commitId: 'live', events: [live] });
      const messages = await subscription.next((seen) =>
        eventsOf(seen).some((event) => event.id === live.id),
      );
      expect(dataById(eventsOf(messages)).get(live.id)).toEqual({ note: 'live note' });
    } finally {
      subscription.close();
    }
  });

  it("cannot forget another tenant's aggregate", async () => {
    const response = await otherTenant.raw('/v1/streams/Patient/p1/key', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await bearerToken(SECRET, 'clinic-b')}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ forgotten: false });
    expect(dataById(await client.pullAll()).get(p1Registered.id)).toEqual(p1Registered.data);
  });

  it('lets only principals who may write the aggregate forget it', async () => {
    const guarded = createSyncApp({
      database,
      authenticate: jwtAuthentication({ secret: SECRET }),
      authorize: { canWrite: (_principal, stream) => stream.aggregateId !== 'p1' },
    });
    try {
      const response = await guarded.request('/v1/streams/Patient/p1/key', {
        method: 'DELETE',
        headers,
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await guarded.close();
    }
    expect(dataById(await client.pullAll()).get(p1Registered.id)).toEqual(p1Registered.data);
  });

  it('forgets an aggregate when its key is deleted', async () => {
    const response = await app.request('/v1/streams/Patient/p1/key', {
      method: 'DELETE',
      headers,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { forgotten: boolean; kid: string };
    expect(body).toMatchObject({ aggregateType: 'Patient', aggregateId: 'p1', forgotten: true });
    const again = await app.request('/v1/streams/Patient/p1/key', { method: 'DELETE', headers });
    expect(await again.json()).toMatchObject({ forgotten: false });
    const { rows } = await database.query<{ key: string | null; forgotten_at: unknown }>(
      'SELECT key, forgotten_at FROM strata_encryption_keys WHERE tenant = $1 AND kid = $2',
      [TENANT, body.kid],
    );
    expect(rows).toEqual([{ key: null, forgotten_at: expect.anything() }]);
  });

  it('then no API returns the plaintext, and readers get the forgotten marker', async () => {
    const pullText = JSON.stringify(await client.pull());
    expect(containsSecret(pullText)).toBe(false);
    const pulled = dataById(await client.pullAll());
    for (const event of p1) expect(isForgotten(pulled.get(event.id))).toBe(true);

    const messages = await subscribedUntilCaughtUp();
    expect(containsSecret(JSON.stringify(messages))).toBe(false);
    expect(isForgotten(dataById(eventsOf(messages)).get(p1Registered.id))).toBe(true);

    const stream = await store().readStream({ aggregateType: 'Patient', aggregateId: 'p1' });
    expect(stream.every((event) => isForgotten(event.data))).toBe(true);
    const all = await store().readAll();
    expect(containsSecret(JSON.stringify(all))).toBe(false);
    expect(containsSecret(await everyRow())).toBe(false);

    const history = await app.request('/v1/streams/Patient/p1/events', { headers });
    expect(history.status).toBe(200);
    const historyText = await history.text();
    expect(containsSecret(historyText)).toBe(false);
    expect(historyText).toContain('"$forgotten":true');
  });

  it('replays a forgotten aggregate with its forget rule, at its full version', async () => {
    const loaded = await loadAggregate(store() as EventStore<never>, Patient, 'p1');
    expect(loaded.state).toEqual({ registered: true, name: '', notes: 1 });
    expect(loaded.version).toBe(2);
  });

  it('leaves other aggregates readable', async () => {
    const pulled = dataById(await client.pullAll());
    expect(pulled.get(p2.id)).toEqual(p2.data);
    expect(pulled.get(todo.id)).toEqual(todo.data);
    const loaded = await loadAggregate(store() as EventStore<never>, Patient, 'p2');
    expect(loaded.state).toEqual({ registered: true, name: OTHER_NAME, notes: 1 });
  });

  it('encrypts later events of a forgotten aggregate with a new key', async () => {
    const later = patientEvent('p1', 3, 'Noted', { note: 'after the deletion' });
    const { results } = await client.push({ commitId: 'later', events: [later] });
    expect(results[0]).toMatchObject({ status: 'accepted' });
    const pulled = dataById(await client.pullAll());
    expect(pulled.get(later.id)).toEqual({ note: 'after the deletion' });
    expect(isForgotten(pulled.get(p1Registered.id))).toBe(true);
    const loaded = await loadAggregate(store() as EventStore<never>, Patient, 'p1');
    expect(loaded.state).toEqual({ registered: true, name: '', notes: 2 });
  });

  it('carries a payload encrypted by the client, with a key the server never had, unchanged', async () => {
    const clientKey: StreamKey = await generateStreamKey();
    const plain = patientEvent('p3', 1, 'Registered', { name: 'E2E', email: 'e2e@example.com' });
    const sealed = {
      ...plain,
      data: await encryptEventData(plain.data, clientKey, payloadBinding(plain)),
    };
    const { results } = await client.push({ commitId: 'e2e', events: [sealed] });
    expect(results[0]).toMatchObject({ status: 'accepted' });

    const pulled = (await client.pullAll()).find((event) => event.id === sealed.id);
    expect(JSON.stringify(pulled?.data)).toBe(JSON.stringify(sealed.data));
    const subscribed = eventsOf(await subscribedUntilCaughtUp()).find((e) => e.id === sealed.id);
    expect(JSON.stringify(subscribed?.data)).toBe(JSON.stringify(sealed.data));
    const data = pulled?.data as PullResponse['events'][number]['data'];
    if (!isEncryptedPayload(data)) throw new Error('not sealed');
    expect(await decryptEventData(data, clientKey.key, payloadBinding(sealed))).toEqual(plain.data);
    expect(await everyRow()).not.toContain('e2e@example.com');
  });
});
