import type { EventStore } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { appendFirstNote } from '../../test/fixtures/first-note.ts';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { createEventFeed } from './event-feed.ts';

const pglite = useMigratedPglite();

const append = (aggregateId: string) =>
  appendFirstNote(
    createPostgresEventStore(pgliteDatabase(pglite()), { tenant: 't' }) as EventStore<never>,
    aggregateId,
  );

describe('createEventFeed', () => {
  it('keeps delivering when the last subscriber leaves and another joins while it stops', async () => {
    const feed = createEventFeed({ database: pgliteDatabase(pglite()), pollIntervalMs: 20 });
    try {
      const first = await feed.subscribe('t', () => undefined);
      // The stop this starts is still in flight when the next subscriber joins.
      first.unsubscribe();
      first.unsubscribe();
      const received: string[] = [];
      const second = await feed.subscribe('t', (event) => received.push(event.aggregateId));
      await append('after-rejoin');
      await expect.poll(() => received, { timeout: 5000 }).toEqual(['after-rejoin']);
      second.unsubscribe();
    } finally {
      await feed.close();
    }
  });

  it('does not stop under subscribers still joining', async () => {
    const feed = createEventFeed({ database: pgliteDatabase(pglite()), pollIntervalMs: 20 });
    try {
      const received: string[] = [];
      const [early, late] = await Promise.all([
        feed.subscribe('t', () => undefined),
        feed.subscribe('t', (event) => received.push(event.aggregateId)),
      ]);
      early.unsubscribe();
      await append('while-late-listens');
      await expect.poll(() => received, { timeout: 5000 }).toEqual(['while-late-listens']);
      late.unsubscribe();
    } finally {
      await feed.close();
    }
  });

  it('a read still in flight when the feed stops delivers nothing and reads no further', async () => {
    const database = pgliteDatabase(pglite());
    let gate: Promise<void> | undefined;
    let open: () => void = () => undefined;
    let reads = 0;
    const gated = {
      async query<TRow>(text: string, params?: readonly unknown[]) {
        reads++;
        await gate;
        return database.query<TRow>(text, params);
      },
    };
    // Polls rarely: the test wakes the feed itself.
    const feed = createEventFeed({ database: gated, pollIntervalMs: 60_000 });
    const received: string[] = [];
    await feed.subscribe('t', (event) => received.push(event.aggregateId));
    await append('read-after-stop');
    gate = new Promise((resolve) => (open = resolve));
    feed.wake();
    feed.wake(); // a commit during the read: it would read once more
    await feed.close();
    const readsAtStop = reads;
    open();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual([]);
    expect(reads).toBe(readsAtStop);
  });

  it('reads once when LISTEN takes effect: commits before it notified nobody', async () => {
    let listening: () => void = () => undefined;
    const feed = createEventFeed({
      database: pgliteDatabase(pglite()),
      pollIntervalMs: 600_000, // no polling: only the listen source can wake the feed
      // A LISTEN that takes effect only when the test says so, and never notifies.
      listen: () =>
        new Promise((resolve) => {
          listening = () => resolve(async () => undefined);
        }),
    });
    try {
      const received: string[] = [];
      const subscription = await feed.subscribe('t', (event) => received.push(event.aggregateId));
      await append('before-listen');
      listening();
      await expect.poll(() => received, { timeout: 5000 }).toEqual(['before-listen']);
      subscription.unsubscribe();
    } finally {
      await feed.close();
    }
  });
});
