import { type CommandPrincipal, isStrataError } from '@strata/core';
import { Cart } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStrata, type Strata } from './create-strata.ts';

const ann: CommandPrincipal = { userId: 'ann', tenant: 't', claims: {} };
const bob: CommandPrincipal = { userId: 'bob', tenant: 't', claims: {} };

const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});

let databases = 0;
/** Two runtimes on one database (two tabs), signed in as different users. */
async function tabs(...principals: (CommandPrincipal | undefined)[]) {
  const name = `principal-${databases++}`;
  const runtimes: Strata[] = [];
  for (const principal of principals) {
    const strata = await createStrata({ name, ...(principal === undefined ? {} : { principal }) });
    opened.push(strata);
    runtimes.push(strata);
  }
  return runtimes;
}

describe('createStrata({ principal })', () => {
  it("decides as the signed-in user: the cart's owner is who opened it, and they may add", async () => {
    const [asAnn] = (await tabs(ann)) as [Strata];
    expect(asAnn.principal).toEqual(ann);
    await asAnn.execute(Cart, 'c1', 'open', {});
    const added = await asAnn.execute(Cart, 'c1', 'addItem', { sku: 'apple' });
    expect(added.state.owner).toBe('ann');
    expect(added.state.items.map((item) => item.sku)).toEqual(['apple']);
    expect((await asAnn.db.events.toArray()).map((row) => row.type)).toEqual([
      'CartOpened',
      'ItemAdded',
    ]);
  });

  it("refuses a non-owner's addItem with FORBIDDEN before it executes: nothing stored, nothing pending", async () => {
    const [asAnn, asBob] = (await tabs(ann, bob)) as [Strata, Strata];
    await asAnn.execute(Cart, 'c1', 'open', {});
    const error = await asBob.execute(Cart, 'c1', 'addItem', { sku: 'pear' }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isStrataError(error, 'FORBIDDEN')).toBe(true);
    expect((error as Error).message).toMatch(/User bob may not run Cart\.addItem on c1/);
    expect((await asBob.db.events.toArray()).map((row) => row.type)).toEqual(['CartOpened']);
    expect((await asBob.pendingCommands()).map((command) => command.command)).toEqual(['open']);
    expect((await asBob.load(Cart, 'c1')).state.items).toEqual([]);
  });

  it('without a principal nobody is signed in: the rule sees undefined and refuses', async () => {
    const [asAnn, nobody] = (await tabs(ann, undefined)) as [Strata, Strata];
    expect(nobody.principal).toBeUndefined();
    await asAnn.execute(Cart, 'c1', 'open', {});
    await expect(nobody.execute(Cart, 'c1', 'removeItem', { sku: 'x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await nobody.db.events.count()).toBe(1);
  });
});
