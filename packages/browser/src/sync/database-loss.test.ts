// The loss watch of a scoped device, in Node on fake-indexeddb (against the real server:
// scoped-database-loss.pg.test.ts): the scopes it writes into the new database are those asked
// for when the old one closed, not what the scope watch read after (a sync loop's write can
// reopen the new, empty database and the watch read no scope from it before recovery runs).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { deleteLocalDatabase } from '../../test/fixtures/sync-harness.ts';
import { CLIENT_ID_KEY } from '../database/database-kept.ts';
import { watchDatabaseLoss } from './database-loss.ts';
import { readScopeStates, writeScopeStates } from './scope-set.ts';
import type { Rebootstrap } from './sync-status.ts';

const open = freshTodoStrata(`database-loss-${crypto.randomUUID()}`);

describe('the loss watch of a scoped device', () => {
  it('writes the scopes asked for when the database closed into the new one', async () => {
    const strata = await open();
    const { db } = strata;
    await writeScopeStates(db, [{ key: 'todos:ann', complete: true, cursor: 's9.9' }]);
    let asked: readonly string[] = ['todos:ann'];
    const recovered: Rebootstrap[] = [];
    const stop = watchDatabaseLoss({
      db,
      clientId: strata.clientId,
      clock: () => new Date('2026-12-04T12:00:00Z'),
      held: () => [],
      askedScopes: () => asked,
      onLost: () => undefined,
      onRecovered: (rebootstrap) => recovered.push(rebootstrap),
      onError: (error) => {
        throw error;
      },
    });
    // Soon after the close, before recovery runs: the scope watch read the new, empty database.
    db.on('close', () =>
      queueMicrotask(() => {
        asked = [];
      }),
    );

    await deleteLocalDatabase({ strata });
    await expect.poll(() => recovered.length).toBe(1);
    stop();

    // Asked for again, read from the start (the old cursor went with the old database).
    expect(await readScopeStates(db)).toEqual([{ key: 'todos:ann', complete: false }]);
    expect((await db.syncState.get(CLIENT_ID_KEY))?.value).toBe(strata.clientId);
  });
});
