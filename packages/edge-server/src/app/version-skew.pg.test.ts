/**
 * Issue 17, the server's side of version skew, on real Postgres through the Neon driver, over
 * HTTP: an old app's pushes (command input of version 1, events of an older schema version) are
 * upgraded and stored under every authority; a command the server no longer has, an input
 * version newer than it knows and forged versions are typed refusals that store nothing; a push
 * of another protocol version is `UNSUPPORTED_PROTOCOL` naming the versions the server speaks.
 */
import { newKsuid } from '@strata/core';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMemo, oldMemo } from '../../test/fixtures/memo-versions.ts';
import { neonSuiteDatabase, type SuiteDatabase } from '../../test/suites/suite-databases.ts';
import { commandDigest } from '../authority/command-digest.ts';
import { migrate } from '../migrations/migrations.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { jwtAuthentication } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

type Answer = Record<string, any>;
const SECRET = 'version-skew-secret';
const OldVerified = oldMemo('VerifiedMemo');

let suite: SuiteDatabase;
let database: SqlDatabase;
let app: SyncApp;

beforeAll(async () => {
  suite = await neonSuiteDatabase();
  database = suite.database;
  await migrate(database);
  // The server runs the new app's definitions.
  app = createSyncApp({
    database,
    authenticate: jwtAuthentication({ secret: SECRET }),
    aggregates: [newMemo('Memo'), newMemo('VerifiedMemo'), newMemo('PlainMemo')],
    authority: { VerifiedMemo: 'verify', PlainMemo: 'events' },
    onError: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await suite?.close();
});

let tenants = 0;
async function device() {
  const tenant = `skew-${tenants++}`;
  const token = await bearerToken(SECRET, tenant, 'ann');
  const post = async (path: string, body: unknown) => {
    const response = await app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  return {
    tenant,
    post,
    async push(commits: readonly unknown[]) {
      const answer = await post('/v2/push', { protocol: 2, clientId: 'old-phone', commits });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body.results as Answer[];
    },
  };
}

/** A commit as the old app builds it: its command (no input version) and its prediction. */
function oldCommit(
  aggregateType: string,
  aggregateId: string,
  name: string,
  input: Record<string, unknown>,
  predicted: readonly { type: string; data: unknown }[],
  extra: Record<string, unknown> = {},
) {
  const commitId = newKsuid();
  return {
    commitId,
    command: {
      aggregateType,
      aggregateId,
      name,
      input,
      issuedAt: new Date().toISOString(),
      ...extra,
    },
    events: predicted.map((draft, index) => ({
      id: newKsuid(),
      type: draft.type,
      schemaVersion: 1,
      aggregateType,
      aggregateId,
      version: index + 1,
      occurredAt: new Date(Date.now() - 1000).toISOString(),
      data: draft.data,
      metadata: { commandId: commitId, correlationId: commitId, causationId: commitId },
    })),
  };
}

async function storedEvents(tenant: string, aggregateId: string) {
  const { rows } = await database.query<{
    id: string;
    type: string;
    schema_version: number;
    version: number;
    data: unknown;
  }>(
    `SELECT id, type, schema_version, version, data FROM strata_events
      WHERE tenant = $1 AND aggregate_id = $2 ORDER BY version`,
    [tenant, aggregateId],
  );
  return rows.map((row) => ({
    ...row,
    schema_version: Number(row.schema_version),
    version: Number(row.version),
  }));
}

async function loggedCommands(tenant: string) {
  const { rows } = await database.query<{
    command_id: string;
    aggregate_id: string;
    event_count: number;
    command_digest: string;
  }>(
    'SELECT command_id, aggregate_id, event_count, command_digest FROM strata_commands WHERE tenant = $1',
    [tenant],
  );
  return rows.map((row) => ({ ...row, event_count: Number(row.event_count) }));
}

describe('a newer server and an old app (Postgres through the Neon driver)', () => {
  it("decides an old app's command: its v1 input upgraded, the events at the current version", async () => {
    const phone = await device();
    const written = oldCommit('Memo', 'm1', 'write', { text: ' Milk ' }, [
      { type: 'MemoWritten', data: { text: ' Milk ' } },
    ]);
    const [answer] = await phone.push([written]);
    expect(answer).toMatchObject({ status: 'accepted' });
    const stored = await storedEvents(phone.tenant, 'm1');
    expect(
      stored.map(({ type, schema_version, version, data }) => [
        type,
        schema_version,
        version,
        data,
      ]),
    ).toEqual([['MemoWritten', 2, 1, { title: 'Milk', pinned: false }]]);
    // The command log holds the command with its input at the current version: a device that
    // upgraded its pending row since and pushes it again is the same command.
    const upgraded = { title: 'Milk' };
    expect(await loggedCommands(phone.tenant)).toEqual([
      {
        command_id: written.commitId,
        aggregate_id: 'm1',
        event_count: 1,
        command_digest: await commandDigest('write', upgraded),
      },
    ]);
    const again = { ...written, command: { ...written.command, input: upgraded, inputVersion: 2 } };
    const [repeated] = await phone.push([again]);
    expect(repeated).toMatchObject({ status: 'accepted' });
    expect(repeated?.events.map((event: Answer) => event.id)).toEqual(stored.map((e) => e.id));
    expect(await storedEvents(phone.tenant, 'm1')).toHaveLength(1);
    expect(await loggedCommands(phone.tenant)).toHaveLength(1);
  });

  it('refuses a removed command with UNKNOWN_COMMAND and stores nothing of it', async () => {
    const phone = await device();
    const write = oldCommit('Memo', 'm2', 'write', { text: 'Eggs' }, [
      { type: 'MemoWritten', data: { text: 'Eggs' } },
    ]);
    const archive = oldCommit('Memo', 'm3', 'archive', {}, [{ type: 'MemoArchived', data: {} }]);
    const [first, second] = await phone.push([archive, write]);
    expect(first).toMatchObject({ status: 'rejected', code: 'UNKNOWN_COMMAND', currentVersion: 0 });
    expect(first?.message).toContain('has no command "archive"');
    // The command after it, on another aggregate, is stored.
    expect(second).toMatchObject({ status: 'accepted' });
    expect(await storedEvents(phone.tenant, 'm3')).toEqual([]);
    expect((await loggedCommands(phone.tenant)).map((row) => row.aggregate_id)).toEqual(['m2']);
  });

  it('refuses an input version newer than it knows (old server, new app) with UNKNOWN_COMMAND', async () => {
    const phone = await device();
    const future = oldCommit('Memo', 'm4', 'write', { title: 'Tea', colour: 'red' }, [], {
      inputVersion: 3,
    });
    const [answer] = await phone.push([future]);
    expect(answer).toMatchObject({ status: 'rejected', code: 'UNKNOWN_COMMAND' });
    expect(answer?.message).toContain('up to input version 2, not version 3');
    expect(await storedEvents(phone.tenant, 'm4')).toEqual([]);
    expect(await loggedCommands(phone.tenant)).toEqual([]);
  });

  it('refuses forged input versions (0, -1, 1e9, a string) per commit, storing nothing', async () => {
    const phone = await device();
    const forged = [0, -1, 1e9, '2', 1.5].map((inputVersion, index) =>
      oldCommit('Memo', `forged-${index}`, 'write', { text: 'x' }, [], { inputVersion }),
    );
    const answers = await phone.push(forged);
    expect(answers.map((answer) => answer.code)).toEqual(forged.map(() => 'VALIDATION_FAILED'));
    expect(answers.every((answer) => /inputVersion/.test(answer.message))).toBe(true);
    const { rows } = await database.query('SELECT 1 FROM strata_events WHERE tenant = $1', [
      phone.tenant,
    ]);
    expect(rows).toEqual([]);
    expect(await loggedCommands(phone.tenant)).toEqual([]);
  });

  it('refuses input the upgraders cannot carry (one throws, one makes invalid input), typed', async () => {
    const phone = await device();
    const answers = await phone.push([
      oldCommit('Memo', 'm5', 'write', { text: 'explode' }, []),
      oldCommit('Memo', 'm6', 'write', { text: '  ' }, []),
      oldCommit('Memo', 'm7', 'write', { title: 'v2 input sent as v1' }, []),
    ]);
    expect(answers.map((answer) => answer.code)).toEqual([
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
    ]);
    expect(answers[0]?.message).toContain('could not be upgraded to version 2');
    const { rows } = await database.query('SELECT 1 FROM strata_events WHERE tenant = $1', [
      phone.tenant,
    ]);
    expect(rows).toEqual([]);
  });

  it("verify: an old app's prediction at an older event schema version is the same decision", async () => {
    const phone = await device();
    // What the old app predicts, with its own definitions.
    const input = { text: 'Bread' };
    const drafts = OldVerified.commands.write.decide(
      OldVerified.initialState(),
      input,
      {} as never,
    );
    const commit = oldCommit('VerifiedMemo', 'v1', 'write', input, drafts);
    const [answer] = await phone.push([commit]);
    expect(answer).toMatchObject({ status: 'accepted' });
    const stored = await storedEvents(phone.tenant, 'v1');
    // The client's event id, the server's decision at the current schema version.
    expect(stored).toEqual([
      {
        id: commit.events[0]?.id,
        type: 'MemoWritten',
        schema_version: 2,
        version: 1,
        data: { title: 'Bread', pinned: false },
      },
    ]);
    // A prediction that is not the old app's decision is still a mismatch.
    const wrong = oldCommit('VerifiedMemo', 'v2', 'write', input, [
      { type: 'MemoWritten', data: { text: 'Butter' } },
    ]);
    const [refused] = await phone.push([wrong]);
    expect(refused).toMatchObject({ status: 'rejected', code: 'PREDICTION_MISMATCH' });
    expect(await storedEvents(phone.tenant, 'v2')).toEqual([]);
  });

  it('events: an old schema version is stored as pushed and read back upcast by the new app', async () => {
    const phone = await device();
    const commit = oldCommit('PlainMemo', 'p1', 'write', { text: 'Jam' }, [
      { type: 'MemoWritten', data: { text: 'Jam' } },
    ]);
    const [answer] = await phone.push([commit]);
    expect(answer).toMatchObject({ status: 'accepted' });
    const stored = await storedEvents(phone.tenant, 'p1');
    expect(stored.map((e) => [e.schema_version, e.data])).toEqual([[1, { text: 'Jam' }]]);
    expect(newMemo('PlainMemo').events.decode(answer?.events[0]).data).toEqual({
      title: 'Jam',
      pinned: false,
    });
    // Invalid at its version, it is refused and not stored.
    const bad = oldCommit('PlainMemo', 'p2', 'write', { text: 'x' }, [
      { type: 'MemoWritten', data: { title: 'v2 data labelled v1' } },
    ]);
    expect((await phone.push([bad]))[0]).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await storedEvents(phone.tenant, 'p2')).toEqual([]);
  });

  it('POST /v2/commands takes an input version too', async () => {
    const phone = await device();
    const answer = await phone.post('/v2/commands', {
      aggregateType: 'Memo',
      aggregateId: 'c1',
      name: 'write',
      input: { text: 'Soup' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.events.map((event: Answer) => event.data)).toEqual([
      { title: 'Soup', pinned: false },
    ]);
    const newer = await phone.post('/v2/commands', {
      aggregateType: 'Memo',
      aggregateId: 'c2',
      name: 'write',
      input: { title: 'Soup' },
      inputVersion: 9,
    });
    expect(newer.status).toBe(400);
    expect(newer.body).toMatchObject({
      code: 'UNKNOWN_COMMAND',
      inputVersion: 9,
      knownInputVersion: 2,
    });
    expect(await storedEvents(phone.tenant, 'c2')).toEqual([]);
  });
});

describe('the push protocol the server speaks', () => {
  it('answers another protocol version, or none, with UNSUPPORTED_PROTOCOL and its range', async () => {
    const phone = await device();
    const commit = oldCommit('Memo', 'x1', 'write', { text: 'x' }, []);
    for (const protocol of [3, 1, undefined]) {
      const answer = await phone.post('/v2/push', {
        ...(protocol === undefined ? {} : { protocol }),
        clientId: 'phone',
        commits: [commit],
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'UNSUPPORTED_PROTOCOL',
        minProtocol: 2,
        maxProtocol: 2,
        ...(protocol === undefined ? {} : { protocol }),
      });
    }
    // A protocol that is no version at all is a malformed body.
    const forged = await phone.post('/v2/push', {
      protocol: '2',
      clientId: 'p',
      commits: [commit],
    });
    expect(forged.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    const { rows } = await database.query('SELECT 1 FROM strata_events WHERE tenant = $1', [
      phone.tenant,
    ]);
    expect(rows).toEqual([]);
    expect(await loggedCommands(phone.tenant)).toEqual([]);
  });
});
