import { defineAggregate, defineEvent } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { encryptAggregates } from '../crypto/encryption-options.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';

// A profile whose name is personal data: encrypted at rest, forgotten by deleting its key.
const Named = defineEvent('Named', z.object({ name: z.string() }));
const Greeted = defineEvent('Greeted', z.object({ text: z.string() }));
const Profile = defineAggregate({
  type: 'Profile',
  events: [Named, Greeted],
  initialState: () => ({ name: undefined as string | undefined }),
  evolve: (state, event) => (event.type === 'Named' ? { name: event.data.name } : state),
  forget: () => ({ name: undefined }),
}).withCommands((command) => ({
  name: command(z.object({ name: z.string() }), (_state, { name }) => [
    { type: 'Named', data: { name } },
  ]),
  greet: command(z.object({}), (state) => [
    { type: 'Greeted', data: { text: `hello ${state.name ?? 'someone'}` } },
  ]),
}));

const pglite = useMigratedPglite();
let app: SyncApp;
beforeAll(() => {
  app = createSyncApp({
    database: pgliteDatabase(pglite()),
    authenticate: () => ({ tenant: 'acme', subject: 'ann' }),
    aggregates: [Profile],
    encryption: encryptAggregates(['Profile']),
  });
});
afterAll(() => app?.close());

const principal = { tenant: 'acme', subject: 'ann' };
const run = async (id: string, name: string, input: unknown) =>
  (
    await app.execute(principal, {
      commandId: id,
      aggregateType: 'Profile',
      aggregateId: 'p1',
      name,
      input,
    })
  )[0]?.data;

describe('the server’s state cache and crypto-shredding', () => {
  it('forgets cached states when a key is deleted: a later decision never sees the forgotten data', async () => {
    await run('c1', 'name', { name: 'Ann Example' });
    expect(await run('c2', 'greet', {})).toEqual({ text: 'hello Ann Example' }); // cached from here on
    const forgotten = await app.request('/v1/streams/Profile/p1/key', { method: 'DELETE' });
    expect(await forgotten.json()).toMatchObject({ forgotten: true });
    expect(await run('c3', 'greet', {})).toEqual({ text: 'hello someone' });
  });
});
