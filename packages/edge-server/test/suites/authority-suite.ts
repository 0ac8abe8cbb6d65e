import {
  defineAggregate,
  defineEvent,
  encryptEventData,
  generateStreamKey,
  newKsuid,
  payloadBinding,
} from '@strata/core';
import { CART_LIMIT, Cart, Todo } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jwtAuthentication } from '../../src/app/auth.ts';
import { createSyncApp, type SyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import type { SqlDatabase } from '../../src/postgres/sql-database.ts';
import { Diary, Note } from '../fixtures/authority-aggregates.ts';
import type { SuiteDatabase } from './suite-databases.ts';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON answers, asserted field by field
type Answer = Record<string, any>;

// An app whose decide throws plain errors (a bug on odd input, or `throw new Error` as a refusal).
const Pinged = defineEvent('Pinged', z.object({ n: z.number() }));
const Fragile = defineAggregate({
  type: 'Fragile',
  events: [Pinged],
  initialState: () => ({ pings: 0 }),
  evolve: (state) => ({ pings: state.pings + 1 }),
}).withCommands((command) => ({
  ping: command(z.object({ n: z.number() }), (_state, { n }) => {
    if (n === 13) throw new Error('unlucky');
    if (n === 0) (undefined as unknown as { crash(): void }).crash();
    return [{ type: 'Pinged', data: { n } }];
  }),
}));

// When the fixtures' devices acted: in the past, as a verify prediction's time must be.
const AN_HOUR_AGO = new Date(Date.now() - 3_600_000).toISOString();

/**
 * Server authority (issue 14) over raw HTTP, with no strata client code: what a forged push can
 * and cannot store, asserted in the database after each one. Runs on PGlite in the unit tier
 * and on real Postgres through the Neon driver in the pg tier.
 */
export function describeAuthority(label: string, open: () => Promise<SuiteDatabase>): void {
  const SECRET = 'authority-secret';
  let database: SqlDatabase;
  let closeDatabase: () => Promise<void>;
  let app: SyncApp;

  beforeAll(async () => {
    ({ database, close: closeDatabase } = await open());
    await migrate(database);
    app = createSyncApp({
      database,
      authenticate: jwtAuthentication({ secret: SECRET }),
      aggregates: [Todo, Cart, Diary, Note, Fragile],
      authority: { Diary: 'events', Note: 'verify' },
      authorize: {
        canWrite: (principal, stream) => stream.aggregateId !== `locked-${principal.subject}`,
      },
      onError: () => undefined,
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await closeDatabase?.();
  });

  let tenants = 0;
  /** A raw HTTP client of one tenant and user: bodies as given, answers as JSON. */
  async function client(user = 'ann', tenant = `authority-${tenants++}`) {
    const token = await bearerToken(SECRET, tenant, user);
    const post = async (path: string, body: unknown) => {
      const response = await app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Answer };
    };
    const as = async (other: string) => client(other, tenant);
    return {
      tenant,
      as,
      post,
      /** A v2 push of these commits; returns each result. */
      async push(...commits: unknown[]) {
        const answer = await post('/v2/push', { protocol: 2, clientId: 'device-1', commits });
        expect(answer.status).toBe(200);
        return answer.body.results as Answer[];
      },
    };
  }

  const command = (aggregateType: string, aggregateId: string, name: string, input: unknown) => ({
    aggregateType,
    aggregateId,
    name,
    input,
    issuedAt: '2026-12-02T09:00:00.000Z',
  });
  const event = (
    aggregateType: string,
    aggregateId: string,
    version: number,
    type: string,
    data: unknown,
    metadata: Record<string, unknown> = {},
  ) => ({
    id: newKsuid(),
    type,
    schemaVersion: type === 'TodoAdded' ? 2 : 1,
    aggregateType,
    aggregateId,
    version,
    occurredAt: AN_HOUR_AGO,
    data,
    metadata,
  });
  /** A commit of `name` on a cart with no prediction: the server decides anyway. */
  const cartCommit = (id: string, name: string, input: unknown, events: unknown[] = []) => ({
    commitId: newKsuid(),
    command: command('Cart', id, name, input),
    events,
  });

  /** What the database holds for one stream: type, version, data and the identity keys. */
  async function stored(tenant: string, aggregateType: string, aggregateId: string) {
    const { rows } = await database.query<{
      type: string;
      version: number;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
    }>(
      `SELECT type, version, data, metadata FROM strata_events
        WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 ORDER BY version`,
      [tenant, aggregateType, aggregateId],
    );
    return rows.map((row) => ({ ...row, version: Number(row.version) }));
  }
  const countAll = async (tenant: string) =>
    Number(
      (
        await database.query<{ n: string }>(
          'SELECT count(*) AS n FROM strata_events WHERE tenant = $1',
          [tenant],
        )
      ).rows[0]?.n,
    );

  /** A cart `id` of `ann`, opened and holding `items` items. */
  async function cartWith(ann: Awaited<ReturnType<typeof client>>, id: string, items: number) {
    const commits = [
      cartCommit(id, 'open', {}),
      ...Array.from({ length: items }, (_, i) => cartCommit(id, 'addItem', { sku: `sku-${i}` })),
    ];
    const results = await ann.push(...commits);
    expect(results.map((result) => result.status)).toEqual(commits.map(() => 'accepted'));
  }

  describe(`server authority on ${label}: forged pushes`, () => {
    it('1. an eleventh item is refused by addItem itself; nothing is stored', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-1', CART_LIMIT);
      const forged = event('Cart', 'cart-1', CART_LIMIT + 2, 'ItemAdded', {
        sku: 'x',
        addedAt: 'now',
      });
      const [result] = await ann.push(cartCommit('cart-1', 'addItem', { sku: 'x' }, [forged]));
      expect(result).toMatchObject({
        status: 'rejected',
        code: 'DOMAIN_RULE_VIOLATED',
        currentVersion: 11,
      });
      expect(result?.message).toBe(`A cart holds at most ${CART_LIMIT} items`);
      expect((await stored(ann.tenant, 'Cart', 'cart-1')).map((row) => row.version)).toEqual(
        Array.from({ length: CART_LIMIT + 1 }, (_, i) => i + 1),
      );
    });

    it('2. the same event pushed without a command (protocol v1) is COMMAND_REQUIRED; nothing is stored', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-2', CART_LIMIT);
      const forged = event('Cart', 'cart-2', CART_LIMIT + 2, 'ItemAdded', {
        sku: 'x',
        addedAt: 'now',
      });
      const v1 = await ann.post('/v1/push', {
        clientId: 'd',
        commits: [{ commitId: 'c1', events: [forged] }],
      });
      expect(v1.body.results).toMatchObject([{ status: 'rejected', code: 'COMMAND_REQUIRED' }]);
      // A first event of a new aggregate that skips `open` fares no better.
      const skip = event('Cart', 'cart-2b', 1, 'ItemAdded', { sku: 'x', addedAt: 'now' });
      const v1b = await ann.post('/v1/push', {
        clientId: 'd',
        commits: [{ commitId: 'c2', events: [skip] }],
      });
      expect(v1b.body.results).toMatchObject([{ code: 'COMMAND_REQUIRED' }]);
      expect(await stored(ann.tenant, 'Cart', 'cart-2b')).toEqual([]);
      expect(await countAll(ann.tenant)).toBe(CART_LIMIT + 1);
    });

    it('3. a commit without its command, or naming another aggregate than its events, is a typed 4xx/rejection', async () => {
      const ann = await client();
      const events = [event('Cart', 'cart-3', 1, 'CartOpened', { owner: 'ann' })];
      const [missing, mismatch] = await ann.push(
        { commitId: 'no-command', events },
        { commitId: 'mismatch', command: command('Cart', 'cart-OTHER', 'open', {}), events },
      );
      expect(missing).toMatchObject({ status: 'rejected', code: 'VALIDATION_FAILED' });
      expect(missing?.message).toMatch(/command/);
      expect(mismatch).toMatchObject({ status: 'rejected', code: 'VALIDATION_FAILED' });
      expect(mismatch?.message).toMatch(/same aggregate/);
      // A body in the old shape (no protocol field) is refused whole, with a problem naming the
      // protocol versions the server speaks (issue 17).
      const old = await ann.post('/v2/push', {
        clientId: 'd',
        commits: [{ commitId: 'x', events }],
      });
      expect(old.status).toBe(400);
      expect(old.body).toMatchObject({ code: 'UNSUPPORTED_PROTOCOL', minProtocol: 2 });
      expect(await countAll(ann.tenant)).toBe(0);
    });

    it('4. a spoofed userId, tenant and clientId are stored as the token and envelope say', async () => {
      const ann = await client();
      const spoofed = {
        userId: 'root',
        tenant: 'someone-else',
        clientId: 'not-me',
        correlationId: 'flow-7',
      };
      const [result] = await ann.push(
        cartCommit('cart-4', 'open', {}, [
          event('Cart', 'cart-4', 1, 'CartOpened', { owner: 'root' }, spoofed),
        ]),
      );
      expect(result?.status).toBe('accepted');
      const [row] = await stored(ann.tenant, 'Cart', 'cart-4');
      expect(row?.data).toEqual({ owner: 'ann' }); // decided by the server, for the token's user
      expect(row?.metadata).toMatchObject({
        userId: 'ann',
        tenant: ann.tenant,
        clientId: 'device-1',
        correlationId: 'flow-7', // app keys are kept
        commandId: result?.commitId,
      });
      expect(await stored('someone-else', 'Cart', 'cart-4')).toEqual([]);
    });

    it('5. a non-owner is FORBIDDEN by the command rule, and so is a stream the app rule locks', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-5', 1);
      const bob = await ann.as('bob');
      const [result] = await bob.push(cartCommit('cart-5', 'addItem', { sku: 'bobs' }));
      expect(result).toMatchObject({ status: 'rejected', code: 'FORBIDDEN', currentVersion: 2 });
      const [locked] = await bob.push(cartCommit('locked-bob', 'open', {}));
      expect(locked).toMatchObject({ code: 'FORBIDDEN' });
      expect((await stored(ann.tenant, 'Cart', 'cart-5')).map((row) => row.type)).toEqual([
        'CartOpened',
        'ItemAdded',
      ]);
      expect(await stored(ann.tenant, 'Cart', 'locked-bob')).toEqual([]);
    });

    it('6. an unknown command, invalid input and a rename of a removed todo are refused with their codes', async () => {
      const ann = await client();
      const todo = (name: string, input: unknown) => ({
        commitId: newKsuid(),
        command: command('Todo', 'todo-6', name, input),
        events: [],
      });
      const results = await ann.push(
        todo('add', { title: 'Milk' }),
        todo('remove', {}),
        todo('rename', { title: 'Cheese' }),
        todo('explode', {}),
        todo('add', { title: '   ' }),
        { commitId: newKsuid(), command: command('Rocket', 'r1', 'launch', {}), events: [] },
      );
      expect(results.map((result) => result.code ?? result.status)).toEqual([
        'accepted',
        'accepted',
        'DOMAIN_RULE_VIOLATED',
        'UNKNOWN_COMMAND',
        'VALIDATION_FAILED',
        'UNKNOWN_COMMAND',
      ]);
      expect((await stored(ann.tenant, 'Todo', 'todo-6')).map((row) => row.type)).toEqual([
        'TodoAdded',
        'TodoRemoved',
      ]);
      expect(await stored(ann.tenant, 'Rocket', 'r1')).toEqual([]);
    });

    it('7. the prediction is ignored: the server stores its own decision (input, time, versions, ids)', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-7', 0);
      const forged = event('Cart', 'cart-7', 9, 'ItemAdded', {
        sku: 'gold',
        addedAt: '1999-01-01T00:00:00.000Z',
      });
      const before = Date.now();
      const [result] = await ann.push(cartCommit('cart-7', 'addItem', { sku: 'apple' }, [forged]));
      expect(result?.status).toBe('accepted');
      const [answered] = (result?.events ?? []) as Answer[];
      expect(answered).toMatchObject({ version: 2, type: 'ItemAdded', data: { sku: 'apple' } });
      expect(answered?.id).not.toBe(forged.id);
      expect(Date.parse(answered?.data.addedAt)).toBeGreaterThanOrEqual(before - 1000);
      const rows = await stored(ann.tenant, 'Cart', 'cart-7');
      expect(rows.map((row) => [row.version, row.data.sku])).toEqual([
        [1, undefined],
        [2, 'apple'],
      ]);
    });

    it('8. a command on a cart never opened (a version-1 event skipping open) is refused', async () => {
      const ann = await client();
      const forged = event('Cart', 'cart-8', 1, 'ItemAdded', { sku: 'x', addedAt: 'now' });
      const [result] = await ann.push(cartCommit('cart-8', 'addItem', { sku: 'x' }, [forged]));
      expect(result).toMatchObject({
        status: 'rejected',
        code: 'DOMAIN_RULE_VIOLATED',
        currentVersion: 0,
      });
      expect(await stored(ann.tenant, 'Cart', 'cart-8')).toEqual([]);
    });

    it('9. a re-pushed command is answered with what it stored, never decided twice; its id cannot read another aggregate', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-9', 0);
      const add = cartCommit('cart-9', 'addItem', { sku: 'once' });
      const [first] = await ann.push(add);
      const [again] = await ann.push(add);
      expect(again).toEqual(first);
      expect((await stored(ann.tenant, 'Cart', 'cart-9')).map((row) => row.data.sku)).toEqual([
        undefined,
        'once',
      ]);
      // Concurrent re-pushes of one new command: one decision.
      const racing = cartCommit('cart-9', 'addItem', { sku: 'race' });
      const answers = await Promise.all([ann.push(racing), ann.push(racing), ann.push(racing)]);
      expect(new Set(answers.map(([result]) => JSON.stringify(result))).size).toBe(1);
      expect(
        (await stored(ann.tenant, 'Cart', 'cart-9')).filter((row) => row.data.sku === 'race'),
      ).toHaveLength(1);
      // A command that cannot be decided twice (add refuses an existing todo): the racing
      // requests answer with the winner's events, not with the refusal their second try got.
      for (let round = 0; round < 5; round++) {
        const addTodo = {
          commitId: newKsuid(),
          command: command('Todo', `race-${round}`, 'add', { title: 'x' }),
          events: [],
        };
        const raced = await Promise.all([ann.push(addTodo), ann.push(addTodo), ann.push(addTodo)]);
        expect(raced.map(([result]) => result?.status)).toEqual([
          'accepted',
          'accepted',
          'accepted',
        ]);
        expect(new Set(raced.map(([result]) => JSON.stringify(result))).size).toBe(1);
        expect(await stored(ann.tenant, 'Todo', `race-${round}`)).toHaveLength(1);
      }
      // The id is one user's one command: another user, or another command, reads nothing of it.
      const bob = await ann.as('bob');
      const [replayed] = await bob.push(add);
      expect(replayed).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
      expect(replayed?.events).toBeUndefined();
      const [otherCommand] = await ann.push({
        ...add,
        command: command('Cart', 'cart-9', 'removeItem', { sku: 'once' }),
      });
      expect(otherCommand).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
      expect((await stored(ann.tenant, 'Cart', 'cart-9')).map((row) => row.data.sku)).toContain(
        'once',
      );
      const [reused] = await ann.push({ ...add, command: command('Cart', 'cart-9x', 'open', {}) });
      expect(reused).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
      expect(await stored(ann.tenant, 'Cart', 'cart-9x')).toEqual([]);
    });

    it('10. a rejection does not block later commands of the push on the same aggregate', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-10', CART_LIMIT);
      const results = await ann.push(
        cartCommit('cart-10', 'addItem', { sku: 'too-many' }),
        cartCommit('cart-10', 'removeItem', { sku: 'sku-0' }),
        cartCommit('cart-10', 'addItem', { sku: 'fits-now' }),
      );
      expect(results.map((result) => result.code ?? result.status)).toEqual([
        'DOMAIN_RULE_VIOLATED',
        'accepted',
        'accepted',
      ]);
      expect(
        (await stored(ann.tenant, 'Cart', 'cart-10')).slice(-2).map((row) => row.type),
      ).toEqual(['ItemRemoved', 'ItemAdded']);
    });

    it('11. two devices fill one cart: the server’s count decides, and both answers are the stored events', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-11', CART_LIMIT - 1);
      // Each device predicted one more item on version 10: only the first to arrive fits.
      const prediction = event('Cart', 'cart-11', CART_LIMIT + 1, 'ItemAdded', {
        sku: 'p',
        addedAt: 'x',
      });
      const [phone] = await ann.push(
        cartCommit('cart-11', 'addItem', { sku: 'phone' }, [prediction]),
      );
      const [laptop] = await ann.push(
        cartCommit('cart-11', 'addItem', { sku: 'laptop' }, [{ ...prediction, id: newKsuid() }]),
      );
      expect(phone?.status).toBe('accepted');
      expect(laptop).toMatchObject({
        status: 'rejected',
        code: 'DOMAIN_RULE_VIOLATED',
        currentVersion: CART_LIMIT + 1,
      });
      expect((await stored(ann.tenant, 'Cart', 'cart-11')).at(-1)?.data.sku).toBe('phone');
    });

    it('12. another tenant cannot touch the cart: the same id is its own aggregate', async () => {
      const ann = await client();
      await cartWith(ann, 'cart-12', 2);
      const eve = await client('eve'); // another tenant
      const [result] = await eve.push(cartCommit('cart-12', 'addItem', { sku: 'eve' }));
      expect(result).toMatchObject({ status: 'rejected', code: 'DOMAIN_RULE_VIOLATED' }); // not open there
      expect(await stored(ann.tenant, 'Cart', 'cart-12')).toHaveLength(3);
      expect(await countAll(eve.tenant)).toBe(0);
    });
  });

  describe(`server authority on ${label}: limits`, () => {
    it('a push of more commands than maxEventsPerPush is refused whole, even with no predicted event', async () => {
      const small = createSyncApp({
        database,
        authenticate: jwtAuthentication({ secret: SECRET }),
        aggregates: [Cart],
        limits: { maxEventsPerPush: 2 },
      });
      try {
        const tenant = `authority-limits-${tenants++}`;
        const token = await bearerToken(SECRET, tenant, 'ann');
        const response = await small.request('/v2/push', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            protocol: 2,
            clientId: 'd',
            commits: ['a', 'b', 'c'].map((id) => cartCommit(`cart-${id}`, 'open', {})),
          }),
        });
        expect(response.status).toBe(413);
        expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: 2 });
        expect(await countAll(tenant)).toBe(0);
        const logged = await database.query('SELECT 1 FROM strata_commands WHERE tenant = $1', [
          tenant,
        ]);
        expect(logged.rows).toEqual([]);
      } finally {
        await small.close();
      }
    });
  });

  describe(`server authority on ${label}: an app's decide that throws`, () => {
    it('refuses that commit with DOMAIN_RULE_VIOLATED; the rest of the push goes on, nothing of it is stored', async () => {
      const ann = await client();
      const ping = (n: number) => ({
        commitId: newKsuid(),
        command: command('Fragile', 'f1', 'ping', { n }),
        events: [],
      });
      const results = await ann.push(ping(1), ping(13), ping(0), ping(2));
      expect(results.map((result) => result.code ?? result.status)).toEqual([
        'accepted',
        'DOMAIN_RULE_VIOLATED',
        'DOMAIN_RULE_VIOLATED',
        'accepted',
      ]);
      expect(results[1]?.message).toBe('unlucky');
      expect(results[2]?.message).toMatch(/crash/);
      expect((await stored(ann.tenant, 'Fragile', 'f1')).map((row) => row.data.n)).toEqual([1, 2]);
    });
  });

  describe(`server authority on ${label}: verify and events`, () => {
    it('verify keeps the client’s events when deciding again yields the same, and refuses others', async () => {
      const ann = await client();
      const at = AN_HOUR_AGO;
      const good = event('Note', 'n1', 1, 'Noted', { text: 'hi', at });
      const [kept] = await ann.push({
        commitId: newKsuid(),
        command: command('Note', 'n1', 'note', { text: 'hi' }),
        events: [good],
      });
      expect(kept).toMatchObject({
        status: 'accepted',
        events: [{ id: good.id, data: { text: 'hi', at } }],
      });
      const bad = event('Note', 'n1', 2, 'Noted', { text: 'not what you asked', at });
      const [mismatch] = await ann.push({
        commitId: newKsuid(),
        command: command('Note', 'n1', 'note', { text: 'hi' }),
        events: [bad],
      });
      expect(mismatch).toMatchObject({ status: 'rejected', code: 'PREDICTION_MISMATCH' });
      const behind = event('Note', 'n1', 1, 'Noted', { text: 'hi', at });
      const [conflict] = await ann.push({
        commitId: newKsuid(),
        command: command('Note', 'n1', 'note', { text: 'hi' }),
        events: [behind],
      });
      expect(conflict).toMatchObject({
        status: 'rejected',
        code: 'VERSION_CONFLICT',
        currentVersion: 1,
      });
      // The device's clock is trusted only so far: not ahead of the server's, not before the
      // aggregate's last event (a backdated command would slip past a time rule).
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      const backdated = new Date(Date.parse(at) - 86_400_000).toISOString();
      for (const when of [inAnHour, backdated]) {
        const [refused] = await ann.push({
          commitId: newKsuid(),
          command: command('Note', 'n1', 'note', { text: 'late' }),
          events: [
            { ...event('Note', 'n1', 2, 'Noted', { text: 'late', at: when }), occurredAt: when },
          ],
        });
        expect(refused, when).toMatchObject({ status: 'rejected', code: 'PREDICTION_MISMATCH' });
      }
      const rows = await stored(ann.tenant, 'Note', 'n1');
      expect(rows.map((row) => row.data.text)).toEqual(['hi']);
      expect(rows[0]?.metadata).toMatchObject({ userId: 'ann' });
    });

    it('events stores a client-encrypted payload as pushed, with the identity stamped', async () => {
      const ann = await client();
      const key = await generateStreamKey();
      const draft = event('Diary', 'd1', 1, 'Written', {}, { userId: 'mallory' });
      const sealed = {
        ...draft,
        data: await encryptEventData({ text: 'secret' }, key, payloadBinding(draft)),
      };
      const [result] = await ann.push({
        commitId: newKsuid(),
        command: command('Diary', 'd1', 'write', { text: '?' }),
        events: [sealed],
      });
      expect(result).toMatchObject({ status: 'accepted', events: [{ id: sealed.id }] });
      const [row] = await stored(ann.tenant, 'Diary', 'd1');
      expect(row?.data).toEqual(sealed.data);
      expect(row?.metadata).toMatchObject({ userId: 'ann', tenant: ann.tenant });
      // The same aggregate over v1 still works: the server never had its commands.
      const next = {
        ...event('Diary', 'd1', 2, 'Written', {}),
        data: await encryptEventData(
          { text: 'two' },
          key,
          payloadBinding({ id: 'x', aggregateType: 'Diary', aggregateId: 'd1' }),
        ),
      };
      const v1 = await ann.post('/v1/push', {
        clientId: 'old-app',
        commits: [{ commitId: 'v1-commit', events: [next] }],
      });
      expect(v1.body.results).toMatchObject([{ status: 'accepted' }]);
      expect(await stored(ann.tenant, 'Diary', 'd1')).toHaveLength(2);
    });
  });

  describe(`server authority on ${label}: commands run by the server`, () => {
    it('POST /v2/commands runs one command for a thin client; a retry with its id stores nothing twice', async () => {
      const ann = await client();
      const open = await ann.post('/v2/commands', {
        commandId: 'open-13',
        aggregateType: 'Cart',
        aggregateId: 'cart-13',
        name: 'open',
        input: {},
      });
      expect(open.status).toBe(200);
      expect(open.body.events).toMatchObject([
        { type: 'CartOpened', data: { owner: 'ann' }, metadata: { userId: 'ann' } },
      ]);
      const retry = await ann.post('/v2/commands', {
        commandId: 'open-13',
        aggregateType: 'Cart',
        aggregateId: 'cart-13',
        name: 'open',
        input: {},
      });
      expect(retry.body).toEqual(open.body);
      const bob = await ann.as('bob');
      const refused = await bob.post('/v2/commands', {
        aggregateType: 'Cart',
        aggregateId: 'cart-13',
        name: 'addItem',
        input: { sku: 'b' },
      });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
      const invalid = await ann.post('/v2/commands', {
        aggregateType: 'Cart',
        aggregateId: 'cart-13',
        name: 'addItem',
        input: { sku: '' },
      });
      expect(invalid.status).toBe(400);
      expect(await stored(ann.tenant, 'Cart', 'cart-13')).toHaveLength(1);
    });

    it('app.execute runs a command from server code with the same rules and stamping', async () => {
      const ann = await client();
      const principal = { tenant: ann.tenant, subject: 'ann' };
      const opened = await app.execute(principal, {
        commandId: newKsuid(),
        aggregateType: 'Cart',
        aggregateId: 'cart-14',
        name: 'open',
        input: {},
      });
      expect(opened.map((e) => e.metadata.userId)).toEqual(['ann']);
      await expect(
        app.execute(
          { ...principal, subject: 'job' },
          {
            commandId: newKsuid(),
            aggregateType: 'Cart',
            aggregateId: 'cart-14',
            name: 'addItem',
            input: { sku: 'j' },
          },
        ),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await stored(ann.tenant, 'Cart', 'cart-14')).toHaveLength(1);
    });
  });
}
