// Issue 14, client side, against the real edge server on Postgres with authority `decide`: the
// server decides each pushed command on its own state, with the token's user and its own clock.
// Devices replace their predictions with what the server stored, get the server's refusals
// (a limit reached by another device's write, a user the rule refuses) and converge on its log.
import 'fake-indexeddb/auto';
import { type CommandPrincipal, newKsuid } from '@strata/core';
import { CART_LIMIT, Cart, Todo } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  TEST_TENANT,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';

const secret = 'a-test-secret-of-enough-length';
const as = (userId: string): CommandPrincipal => ({ userId, tenant: TEST_TENANT, claims: {} });
// The devices' clocks are a year behind: what they predict is never what the server decides.
const aYearAgo = () => new Date(Date.now() - 365 * 86_400_000);

let server: TestServer;
const clients: TestClient[] = [];

/** A device signed in (token and runtime principal) as `user`; `claims` lets it lie locally. */
async function device(name: string, user: string, claims = user) {
  const token = await bearerToken(secret, TEST_TENANT, user);
  const started = await startTestClient(
    server.url,
    name,
    { aggregates: [Todo, Cart], token: () => token },
    { principal: as(claims), clock: aYearAgo },
  );
  clients.push(started);
  return started;
}

const serverCart = async (cartId: string) =>
  (await server.events()).filter((event) => event.aggregateId === cartId);

/** The device's cart rows: exactly the server's events (ids, versions, data), none pending. */
async function expectServerLog(client: TestClient, cartId: string) {
  const upstream = await serverCart(cartId);
  const local = (await syncedRows(client.strata.db)).filter((r) => r.aggregateId === cartId);
  const summary = (e: { version: number; id: string; data: unknown }) => [e.version, e.id, e.data];
  expect(
    local.filter((row) => row.pending === 1),
    client.name,
  ).toEqual([]);
  expect(local.map(summary).sort(), client.name).toEqual(upstream.map(summary).sort());
  expect(await client.strata.pendingCommands(), client.name).toEqual([]);
}

beforeAll(async () => {
  server = await startTestServer({ jwtSecret: secret, aggregates: [Todo, Cart] });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('authority decide, seen from the devices', () => {
  it("ends with every device holding the server's events: its time, its limit, its user", async () => {
    const startedAt = new Date().toISOString();
    const cartId = newKsuid();
    const phone = await device('ann-phone', 'ann');
    await phone.strata.execute(Cart, cartId, 'open', {});
    await eventually(async () => expect(await serverCart(cartId)).toHaveLength(1));
    const laptop = await device('ann-laptop', 'ann');
    await eventually(async () => {
      expect((await laptop.strata.load(Cart, cartId)).state.owner).toBe('ann');
    });

    // Both offline, each within the limit on its own; together over it.
    phone.network.setOnline(false);
    laptop.network.setOnline(false);
    for (let item = 1; item <= 6; item++) {
      await phone.strata.execute(Cart, cartId, 'addItem', { sku: `phone-${item}` });
      await laptop.strata.execute(Cart, cartId, 'addItem', { sku: `laptop-${item}` });
    }
    phone.network.setOnline(true);
    phone.sync.syncNow();
    await eventually(async () => expect(await phone.strata.pendingCommands()).toEqual([]));
    laptop.network.setOnline(true);
    laptop.sync.syncNow();
    await eventually(async () => {
      await expectServerLog(laptop, cartId);
      await expectServerLog(phone, cartId);
    });

    const stored = await serverCart(cartId);
    expect(stored).toHaveLength(1 + CART_LIMIT);
    const skus = stored.slice(1).map((event) => (event.data as { sku: string }).sku);
    expect(skus).toEqual([
      ...['phone-1', 'phone-2', 'phone-3', 'phone-4', 'phone-5', 'phone-6'],
      ...['laptop-1', 'laptop-2', 'laptop-3', 'laptop-4'],
    ]);
    // Decided at the server's time, not the devices' (a year behind), and stamped with the user.
    for (const event of stored.slice(1)) {
      expect((event.data as { addedAt: string }).addedAt >= startedAt).toBe(true);
      expect(event.metadata.userId).toBe('ann');
    }
    expect(laptop.rejected.map((row) => [row.input, row.code])).toEqual([
      [{ sku: 'laptop-5' }, 'DOMAIN_RULE_VIOLATED'],
      [{ sku: 'laptop-6' }, 'DOMAIN_RULE_VIOLATED'],
    ]);
    expect(laptop.rejected[0]?.reason).toMatch(/at most 10 items/);
    expect(phone.rejected).toEqual([]);
    expect((await laptop.strata.load(Cart, cartId)).state.items).toHaveLength(CART_LIMIT);
  });

  it("refuses another user's command: locally before it runs, and on the server when the device lies", async () => {
    const cartId = newKsuid();
    const ann = await device('ann', 'ann');
    await ann.strata.execute(Cart, cartId, 'open', {});
    await ann.strata.execute(Cart, cartId, 'addItem', { sku: 'apple' });
    await eventually(() => expectServerLog(ann, cartId));

    const bob = await device('bob', 'bob');
    await eventually(async () => {
      expect((await bob.strata.load(Cart, cartId)).state.items).toHaveLength(1);
    });
    await expect(
      bob.strata.execute(Cart, cartId, 'removeItem', { sku: 'apple' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await bob.strata.pendingCommands()).toEqual([]);

    // A tampered client: its runtime claims to be ann, its token says bob.
    const liar = await device('liar', 'bob', 'ann');
    await eventually(async () => {
      expect((await liar.strata.load(Cart, cartId)).state.items).toHaveLength(1);
    });
    await liar.strata.execute(Cart, cartId, 'removeItem', { sku: 'apple' });
    await eventually(async () => {
      expect(liar.rejected.map((row) => [row.command, row.code])).toEqual([
        ['removeItem', 'FORBIDDEN'],
      ]);
      await expectServerLog(liar, cartId);
    });
    expect((await serverCart(cartId)).map((event) => event.type)).toEqual([
      'CartOpened',
      'ItemAdded',
    ]);
    expect((await liar.strata.load(Cart, cartId)).state.items.map((item) => item.sku)).toEqual([
      'apple',
    ]);
  });
});
