// Snapshot bootstrap (issue 15), against the real edge server on Postgres: a device that
// back-fills a scope starts an aggregate whose type opts in from the server's snapshot instead
// of its whole history, holds the same state and projection rows as a device that replayed
// everything, reads the older history on demand, and keeps writing and converging from there.
import 'fake-indexeddb/auto';
import { type CommandPrincipal, newKsuid, type ScopeRef } from '@strata/core';
import { defineNote, folder, Note, noteScopes, SNAPSHOT_EVERY } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NoteRow, noteList, noteTables } from '../../test/fixtures/note-list.ts';
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
/** The harness reads the server's whole log as this user. */
const AUDITOR = 'user-1';
let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer({
    jwtSecret: secret,
    aggregates: [Note],
    scopes: {
      definitions: [folder],
      membership: [noteScopes],
      rules: { folder: () => true, tenant: (principal) => principal.subject === AUDITOR },
    },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server.stop();
});

const unique = () => newKsuid().slice(-8);

async function device(user: string, scopes: readonly ScopeRef[], note = Note) {
  const token = await bearerToken(secret, TEST_TENANT, user);
  const principal: CommandPrincipal = { userId: user, tenant: TEST_TENANT, claims: {} };
  const client = await startTestClient(
    server.url,
    `${user}-device`,
    { aggregates: [note], token: () => token, scopes },
    { tables: noteTables, projections: [noteList], principal },
  );
  clients.push(client);
  return client;
}

/** The versions of a note's events a device holds, in order. */
async function versions(client: TestClient, noteId: string): Promise<number[]> {
  const rows = await eventsOf(client, noteId);
  return rows.map((row) => row.version).sort((a, b) => a - b);
}
function eventsOf(client: TestClient, noteId: string) {
  return client.strata.db.events
    .where('[aggregateType+aggregateId+version]')
    .between(['Note', noteId], ['Note', noteId, []])
    .toArray();
}
async function noteRows(client: TestClient): Promise<NoteRow[]> {
  const rows = await client.strata.db.table<NoteRow, string>('notes').toArray();
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}
/** The server's events of one note, as (id, version), in version order. */
async function serverEvents(noteId: string) {
  const events = await server.events();
  return events
    .filter((event) => event.aggregateId === noteId)
    .map((event) => [event.id, event.version] as const);
}

/** A folder with a long-edited note (`edits` edits) and a short one; both written by `writer`. */
async function writeFolder(writer: TestClient, folderId: string, edits: number) {
  const [long, short] = [`long-${unique()}`, `short-${unique()}`];
  await writer.strata.execute(Note, long, 'create', { folderId, text: 'v1' });
  for (let i = 1; i <= edits; i++) {
    await writer.strata.execute(Note, long, 'edit', { text: `edit ${i}` });
  }
  await writer.strata.execute(Note, short, 'create', { folderId, text: 'short' });
  await writer.strata.execute(Note, short, 'edit', { text: 'short, edited' });
  await writer.sync.whenSynced();
  return { long, short };
}

describe('snapshot bootstrap against the edge server', () => {
  it('a device back-filling a scope starts a long note from the server snapshot, state and rows as a full replay', async () => {
    const folderId = `f-${unique()}`;
    const writer = await device(`ann-${unique()}`, [folder({ folderId })]);
    const { long, short } = await writeFolder(writer, folderId, 11); // long at version 12
    const [snapshot] = await server.query<{ version: number }>(
      `SELECT version FROM strata_snapshots WHERE aggregate_id = $1`,
      [long],
    );
    expect(snapshot?.version).toBe(10); // the server's policy: every SNAPSHOT_EVERY versions
    expect(SNAPSHOT_EVERY).toBe(5);

    const reader = await device(`bob-${unique()}`, [folder({ folderId })]);
    await reader.sync.whenSynced();
    // From the snapshot: its own event and those after it, none before.
    expect(await versions(reader, long)).toEqual([10, 11, 12]);
    expect(await versions(reader, short)).toEqual([1, 2]);
    expect(await reader.strata.db.bases.toArray()).toMatchObject([
      { aggregateType: 'Note', aggregateId: long, version: 10 },
    ]);
    // The same state, version and projection rows as the writer, which replayed every event.
    const expected = await writer.strata.load(Note, long);
    const loaded = await reader.strata.load(Note, long);
    expect([loaded.state, loaded.version]).toEqual([expected.state, expected.version]);
    expect(loaded.state).toEqual({ folderId, text: 'edit 11', edits: 11 });
    expect((await reader.strata.loadAll(Note)).get(long)?.state).toEqual(expected.state);
    expect(await noteRows(reader)).toEqual(await noteRows(writer));
    // A rebuild starts the note from its base too.
    await reader.strata.rebuildProjections();
    expect(await noteRows(reader)).toEqual(await noteRows(writer));

    // Older history on demand: stored as history, not applied again.
    expect((await reader.strata.history(Note, long)).map((e) => e.version)).toEqual([10, 11, 12]);
    expect(await reader.sync.loadHistory(Note, long)).toBe(9);
    expect(await reader.sync.loadHistory(Note, short)).toBe(0); // no base: it has everything
    const history = await reader.strata.history(Note, long);
    expect(history.map((event) => [event.id, event.version])).toEqual(await serverEvents(long));
    expect(await noteRows(reader)).toEqual(await noteRows(writer));
    expect((await reader.strata.load(Note, long)).state).toEqual(expected.state);

    // It writes on top of the snapshot's state; both devices converge on the server's events.
    await reader.strata.execute(Note, long, 'edit', { text: 'from bob' });
    await reader.sync.whenSynced();
    await eventually(async () => expect(await versions(writer, long)).toContain(13));
    expect(await serverEvents(long)).toHaveLength(13);
    expect(await noteRows(reader)).toEqual(await noteRows(writer));
    expect((await noteRows(reader)).find((row) => row.id === long)).toMatchObject({
      text: 'from bob',
      edits: 12,
    });
  });

  it('an app whose aggregate does not opt in back-fills the whole history', async () => {
    const folderId = `f-${unique()}`;
    const writer = await device(`ann-${unique()}`, [folder({ folderId })]);
    const { long } = await writeFolder(writer, folderId, 11);
    const reader = await device(
      `carol-${unique()}`,
      [folder({ folderId })],
      defineNote({ bootstrap: false }),
    );
    await reader.sync.whenSynced();
    expect(await versions(reader, long)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await reader.strata.db.bases.count()).toBe(0);
    expect(await noteRows(reader)).toEqual(await noteRows(writer));
  });

  it('a command pending offline on a note started from a snapshot is rebased on the server’s newer events', async () => {
    const folderId = `f-${unique()}`;
    const writer = await device(`ann-${unique()}`, [folder({ folderId })]);
    const { long } = await writeFolder(writer, folderId, 11);
    const reader = await device(`dave-${unique()}`, [folder({ folderId })]);
    await reader.sync.whenSynced();
    expect(await versions(reader, long)).toEqual([10, 11, 12]);

    reader.network.setOnline(false);
    await reader.strata.execute(Note, long, 'edit', { text: 'offline edit' }); // local v13
    for (const text of ['a', 'b', 'c']) await writer.strata.execute(Note, long, 'edit', { text });
    await writer.sync.whenSynced(); // server at v15, snapshot at 15
    reader.network.setOnline(true);
    await reader.sync.whenSynced();

    // The server decided the offline edit on its own state: v16, after the writer's three.
    const upstream = await serverEvents(long);
    expect(upstream).toHaveLength(16);
    await eventually(async () => expect(await versions(writer, long)).toContain(16));
    // whenSynced may answer on the caught-up state from before the network came back.
    await eventually(async () => expect(await versions(reader, long)).toContain(16));
    const local = (await syncedRows(reader.strata.db)).filter((row) => row.aggregateId === long);
    expect(local.filter((row) => row.pending === 1)).toEqual([]);
    expect(
      local.map((row) => [row.id, row.version]).sort((a, b) => Number(a[1]) - Number(b[1])),
    ).toEqual(upstream.filter(([, version]) => version >= 10));
    const state = (await reader.strata.load(Note, long)).state;
    expect(state).toEqual((await writer.strata.load(Note, long)).state);
    expect(state).toMatchObject({ text: 'offline edit', edits: 15 });
    expect(await noteRows(reader)).toEqual(await noteRows(writer));
  });
});
