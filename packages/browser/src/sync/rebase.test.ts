import { type CommandPrincipal, newKsuid, type StoredEvent } from '@strata/core';
import { Cart } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedByServer } from '../../test/fixtures/server-events.ts';
import { rebaseAggregate } from './rebase.ts';
import { syncContext } from './sync-context.ts';

const ann: CommandPrincipal = { userId: 'ann', tenant: 't', claims: {} };
const bob: CommandPrincipal = { userId: 'bob', tenant: 't', claims: {} };
const cart = { aggregateType: 'Cart', aggregateId: 'c1' };
const open = freshTodoStrata('rebase');

/** Bob's device opened cart c1 first: its CartOpened as the server stored it. */
async function openedByBob() {
  const other = await open({ principal: bob });
  const opened = await other.execute(Cart, 'c1', 'open', {});
  return storedByServer(opened.events[0] as StoredEvent, 1);
}

/** Rebases cart c1 of `strata` on `upstream`, in a transaction as the sync client does. */
function rebase(strata: Awaited<ReturnType<typeof open>>, upstream: StoredEvent[]) {
  const context = syncContext(strata, [Cart], () => newKsuid());
  const { db } = strata;
  // An async scope: Dexie keeps the transaction open across its awaits.
  return db.transaction('rw', db.tables, async () =>
    rebaseAggregate(context, cart, upstream as never),
  );
}

describe('rebaseAggregate re-runs commands as the runtime principal', () => {
  it("refuses what the new state no longer allows: ann's addItem on the cart bob opened first is FORBIDDEN", async () => {
    const strata = await open({ principal: ann });
    await strata.execute(Cart, 'c1', 'open', {});
    await strata.execute(Cart, 'c1', 'addItem', { sku: 'apple' });
    const bobs = await openedByBob();

    const outcome = await rebase(strata, [bobs]);
    expect(outcome.rejected.map((row) => [row.command, row.code])).toEqual([
      ['open', 'DOMAIN_RULE_VIOLATED'],
      ['addItem', 'FORBIDDEN'],
    ]);
    expect(outcome.rejected[1]?.reason).toMatch(/User ann may not run Cart\.addItem/);
    expect(
      (await strata.db.events.toArray()).map((row) => [row.id, row.type, row.pending]),
    ).toEqual([[bobs.id, 'CartOpened', 0]]);
    expect(await strata.pendingCommands()).toEqual([]);
    expect((await strata.db.rejected.toArray()).map((row) => row.code)).toEqual([
      'DOMAIN_RULE_VIOLATED',
      'FORBIDDEN',
    ]);
  });

  it("keeps what the principal may still do: bob's own addItem re-runs on the cart he opened", async () => {
    const bobs = await openedByBob();
    const strata = await open({ principal: bob });
    // Bob's second device added before it heard of the cart (it opened it locally too).
    await strata.execute(Cart, 'c1', 'open', {});
    await strata.execute(Cart, 'c1', 'addItem', { sku: 'pear' });

    const outcome = await rebase(strata, [bobs]);
    expect(outcome.rejected.map((row) => row.command)).toEqual(['open']);
    expect(outcome.reapplied).toBe(1);
    expect(
      (await strata.db.events.toArray()).map((row) => [row.version, row.type, row.pending]),
    ).toEqual([
      [1, 'CartOpened', 0],
      [2, 'ItemAdded', 1],
    ]);
    expect((await strata.pendingCommands()).map((row) => row.command)).toEqual(['addItem']);
    expect((await strata.load(Cart, 'c1')).state.items.map((item) => item.sku)).toEqual(['pear']);
  });
});
