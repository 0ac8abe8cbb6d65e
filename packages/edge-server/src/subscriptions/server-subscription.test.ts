import { describe, expect, it } from 'vitest';
import { appendFirstNote } from '../../test/fixtures/first-note.ts';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { pgliteListen } from './listen-source.ts';
import { type ServerSubscriptionOptions, subscribeToEvents } from './server-subscription.ts';

const pglite = useMigratedPglite();

/** Takes `count` events from a subscription, then leaves it (which stops it). */
async function take(
  options: ServerSubscriptionOptions,
  count: number,
  whileOpen?: () => Promise<void>,
) {
  const ids: string[] = [];
  const cursors: string[] = [];
  const subscription = subscribeToEvents(options);
  const reading = (async () => {
    for await (const event of subscription) {
      ids.push(`${event.tenant}/${event.aggregateId}`);
      cursors.push(event.cursor);
      if (ids.length === count) break;
    }
  })();
  await whileOpen?.();
  await reading;
  return { ids, cursors };
}

describe('subscribeToEvents (server code)', () => {
  it('catches up from the start, goes live, resumes from a cursor, filters by tenant', async () => {
    const database = pgliteDatabase(pglite());
    const a = createPostgresEventStore(database, { tenant: 'a' });
    const b = createPostgresEventStore(database, { tenant: 'b' });
    await appendFirstNote(a as never, 'n1');
    await appendFirstNote(b as never, 'n2');
    const listen = pgliteListen(pglite());

    const first = await take({ database, listen, pollIntervalMs: 60_000 }, 3, async () => {
      // Live: the poll interval is a minute, so only the notification can deliver this in time.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await appendFirstNote(a as never, 'n3');
    });
    expect(first.ids).toEqual(['a/n1', 'b/n2', 'a/n3']);

    const resumed = await take({ database, from: { after: first.cursors[0] as string } }, 2);
    expect(resumed.ids).toEqual(['b/n2', 'a/n3']);

    const onlyA = await take({ database, tenant: 'a' }, 2);
    expect(onlyA.ids).toEqual(['a/n1', 'a/n3']);
  });

  it('volatile (from now) delivers only events appended after it started', async () => {
    const database = pgliteDatabase(pglite());
    const store = createPostgresEventStore(database, { tenant: 'volatile' });
    await appendFirstNote(store as never, 'old');
    const live = await take(
      { database, from: 'now', tenant: 'volatile', pollIntervalMs: 10 },
      1,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await appendFirstNote(store as never, 'new');
      },
    );
    expect(live.ids).toEqual(['volatile/new']);
  });
});
