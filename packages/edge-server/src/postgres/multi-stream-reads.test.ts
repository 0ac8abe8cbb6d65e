/**
 * The multi-stream reads a push's decisions load with (readStreamsEvents, loadSnapshotRows), on
 * PGlite: each read gets exactly its stream's events from its version, at most the limit, in
 * version order; other tenants and streams never leak in.
 */
import { NO_STREAM, newKsuid, type StreamRef, streamKey } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from './pglite-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';
import { loadSnapshotRows, saveSnapshotRow } from './snapshot-rows.ts';
import { readStreamsEvents } from './stream-reads.ts';

const pglite = useMigratedPglite();
const todo = (aggregateId: string): StreamRef => ({ aggregateType: 'Todo', aggregateId });
const events = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: newKsuid(),
    type: 'TodoRenamed',
    schemaVersion: 1,
    occurredAt: '2026-12-03T09:00:00.000Z',
    data: { title: `t${i + 1}` },
    metadata: {},
  }));

describe('multi-stream reads', () => {
  it('reads each stream from its version, at most the limit, and nothing of other tenants', async () => {
    const db = pgliteDatabase(pglite());
    const acme = createPostgresEventStore(db, { tenant: 'acme' });
    const other = createPostgresEventStore(db, { tenant: 'other' });
    await acme.append(todo('a'), events(5), { expectedVersion: NO_STREAM });
    await acme.append(todo('b'), events(2), { expectedVersion: NO_STREAM });
    await other.append(todo('a'), events(3), { expectedVersion: NO_STREAM });

    const pages = await readStreamsEvents(
      db,
      'acme',
      [
        { ...todo('a'), fromVersion: 2 },
        { ...todo('missing'), fromVersion: 1 },
        { ...todo('b'), fromVersion: 1 },
        { ...todo('a'), fromVersion: 5 },
      ],
      3,
    );
    expect(pages.map((page) => page.map((event) => [event.aggregateId, event.version]))).toEqual([
      [
        ['a', 2],
        ['a', 3],
        ['a', 4],
      ],
      [],
      [
        ['b', 1],
        ['b', 2],
      ],
      [['a', 5]],
    ]);
    // The same events as the one-stream read gives.
    expect(pages[0]).toEqual(await acme.readStream(todo('a'), { fromVersion: 2, limit: 3 }));
    expect(await readStreamsEvents(db, 'acme', [], 3)).toEqual([]);
  });

  it('loads the snapshots of the streams that have one, by stream key', async () => {
    const db = pgliteDatabase(pglite());
    const snapshot = (tenant: string, aggregateId: string, version: number) =>
      saveSnapshotRow(db, tenant, {
        ...todo(aggregateId),
        version,
        state: { title: `${tenant}-${aggregateId}` },
        fingerprint: 'f',
        takenAt: '2026-12-03T09:00:00.000Z',
      });
    await snapshot('snaps', 's1', 4);
    await snapshot('snaps', 's2', 9);
    await snapshot('elsewhere', 's3', 1);
    const found = await loadSnapshotRows(db, 'snaps', [todo('s1'), todo('s3'), todo('s2')]);
    expect([...found.keys()].sort()).toEqual([streamKey(todo('s1')), streamKey(todo('s2'))].sort());
    expect(found.get(streamKey(todo('s2')))).toMatchObject({ ...todo('s2'), version: 9 });
    expect(await loadSnapshotRows(db, 'snaps', [])).toEqual(new Map());
  });
});
