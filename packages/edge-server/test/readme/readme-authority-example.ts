import { PGlite } from '@electric-sql/pglite';
import { newKsuid } from '@strata/core';
import { createSyncApp, migrate, pgliteDatabase } from '@strata/edge-server';
import { Cart, Todo } from '@strata/example-todo';

const database = pgliteDatabase(await PGlite.create());
await migrate(database);
const app = createSyncApp({
  database,
  authenticate: async () => ({ tenant: 'acme', subject: 'ann' }), // jwtAuthentication({ secret })
  aggregates: [Todo, Cart], // both `decide` unless `authority: { Todo: 'verify' | 'events' }`
});

// What a device pushes (startSync does this): each command with the events it predicted.
const push = async (name: string, input: unknown, predicted: unknown[] = []) => {
  const command = {
    aggregateType: 'Cart',
    aggregateId: 'cart-1',
    name,
    input,
    issuedAt: new Date().toISOString(),
  };
  const body = {
    protocol: 2,
    clientId: 'phone',
    commits: [{ commitId: newKsuid(), command, events: predicted }],
  };
  const response = await app.request('/v2/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()).results[0];
};

await push('open', {});
// A forged prediction changes nothing: the server stores what addItem decides, for the token's user.
const forged = {
  id: newKsuid(),
  type: 'ItemAdded',
  schemaVersion: 1,
  aggregateType: 'Cart',
  aggregateId: 'cart-1',
  version: 2,
  occurredAt: '1999-01-01T00:00:00.000Z',
  data: { sku: 'gold', addedAt: '1999' },
  metadata: { userId: 'root' },
};
const added = await push('addItem', { sku: 'apple' }, [forged]);
console.log(added.status, added.events[0].data.sku, added.events[0].metadata.userId);
for (let i = 0; i < 9; i++) await push('addItem', { sku: `item-${i}` });
const eleventh = await push('addItem', { sku: 'one-too-many' });
console.log(eleventh.status, eleventh.code, eleventh.message);
