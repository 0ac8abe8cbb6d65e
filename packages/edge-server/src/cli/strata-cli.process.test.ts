import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commit, fetchAt, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProcess, spawnServer } from '../../test/fixtures/node/spawn-server.ts';
import { MIGRATIONS } from '../migrations/migrations.ts';

// The real bin (bin/strata.js, which runs these sources through tsx), as a user runs it, on a
// temporary PGlite folder: help, exit codes, and migrate → serve → inspect.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const APP = 'test/fixtures/runtimes/todo-app.ts';
let folder: string;
let dataDir: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'strata-cli-'));
  dataDir = join(folder, 'data');
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Runs `strata ...args` to its end: exit code and everything it printed. */
async function strata(...args: string[]) {
  const run = spawnProcess(process.execPath, ['bin/strata.js', ...args], { cwd: packageDir });
  const code = await run.exited;
  return { code, output: run.output() };
}

describe('strata --help', () => {
  it('lists the commands and the exit codes', async () => {
    const { code, output } = await strata('--help');
    expect(code).toBe(0);
    for (const command of ['serve', 'migrate', 'rebuild', 'inspect']) {
      expect(output).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(output).toContain('2  usage error');
  });

  it.each([
    ['serve', '--app MODULE'],
    ['migrate', '--data-dir DIR'],
    ['rebuild', '--projections MODULE'],
    ['inspect', 'AGGREGATE_TYPE AGGREGATE_ID'],
  ])('strata %s --help gives its usage, options and exit codes', async (command, option) => {
    const { code, output } = await strata(command, '--help');
    expect(code).toBe(0);
    expect(output).toContain(`usage: strata ${command}`);
    expect(output).toContain(option);
    expect(output).toContain('Exit codes:');
  });
});

describe('strata usage errors exit 2', () => {
  it.each([
    [['frobnicate'], 'unknown command frobnicate'],
    [[], 'usage: strata <command>'],
    [['serve', '--bogus'], "Unknown option '--bogus'"],
    [['serve', '--port', 'eighty'], 'Not a TCP port: eighty'],
    [['rebuild'], 'rebuild needs --projections MODULE'],
    [['inspect', 'Todo'], 'inspect takes AGGREGATE_TYPE AGGREGATE_ID'],
    [['inspect', 'Todo', 't', '--limit', '0'], '--limit must be a whole number of at least 1'],
  ])('strata %j', async (args, message) => {
    const { code, output } = await strata(...args);
    expect(code, output).toBe(2);
    expect(output).toContain(message);
  });
});

describe('strata on a PGlite folder', () => {
  it('migrates with a line per migration, then finds the schema up to date', async () => {
    const first = await strata('migrate', '--data-dir', dataDir);
    expect(first.code, first.output).toBe(0);
    const total = MIGRATIONS.length;
    expect(first.output).toContain(`${total} of ${total} migrations to apply`);
    for (const [index, migration] of MIGRATIONS.entries()) {
      expect(first.output).toContain(
        `migration ${migration.version} (${migration.name}): applied in`,
      );
      expect(first.output).toContain(`[${index + 1}/${total}]`);
    }
    const again = await strata('migrate', '--data-dir', dataDir);
    expect(again.code).toBe(0);
    expect(again.output).toContain('schema is up to date');
  }, 60_000);

  it('serves the app definition, refuses a second user of the folder (exit 1), and inspect prints the stream', async () => {
    const server = await spawnServer(
      process.execPath,
      ['bin/strata.js', 'serve', '--app', APP, '--data-dir', dataDir, '--port', '0'],
      { cwd: packageDir },
    );
    try {
      expect(server.output()).toContain('[strata] schema is up to date');
      const client = syncClient(fetchAt(server.url));
      const pushed = await client.push(
        commit('c1', { ...todoEvent('todo-1', 1), data: { title: 'milk' } }),
        commit('c2', todoEvent('todo-1', 2)),
        commit('bad', { ...todoEvent('todo-2', 1), data: { title: 42 } }),
      );
      expect(pushed.results.map((result) => [result.commitId, result.status])).toEqual([
        ['c1', 'accepted'],
        ['c2', 'accepted'],
        ['bad', 'rejected'],
      ]);
      // The server holds the folder: inspect says so, and fails.
      const locked = await strata('inspect', 'Todo', 'todo-1', '--data-dir', dataDir);
      expect(locked.code).toBe(1);
      expect(locked.output).toMatch(/^\[strata\] failed: DataDirLockedError: .* is in use/m);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }

    const table = await strata('inspect', 'Todo', 'todo-1', '--data-dir', dataDir);
    expect(table.code, table.output).toBe(0);
    const lines = table.output.trim().split('\n');
    expect(lines[0]).toBe('Todo/todo-1 in tenant default: version 2');
    expect(lines[1]).toMatch(
      /^VERSION +TYPE +SCHEMA +ID +POSITION +OCCURRED +RECORDED +USER +DATA$/,
    );
    expect(lines[2]).toMatch(/^1 +TodoAdded +2 +\w{27} +1 .* anonymous +\{"title":"milk"\}$/);
    expect(lines[3]).toMatch(/^2 +TodoCompleted +1 +\w{27} +2 /);
    expect(lines).toHaveLength(4);

    const json = await strata(
      'inspect',
      'Todo',
      'todo-1',
      '--json',
      '--from-version',
      '2',
      '--data-dir',
      dataDir,
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.output)).toMatchObject({
      tenant: 'default',
      aggregateType: 'Todo',
      aggregateId: 'todo-1',
      version: 2,
      events: [{ version: 2, type: 'TodoCompleted', position: 2 }],
    });

    // The refused todo was never stored: no such stream.
    const missing = await strata('inspect', 'Todo', 'todo-2', '--data-dir', dataDir);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain(
      '[strata] failed: Error: No stream Todo/todo-2 in tenant default',
    );
  }, 90_000);

  it('fails with exit 1 and a clear message for an app module without a definition', async () => {
    const { code, output } = await strata(
      'serve',
      '--app',
      'test/fixtures/runtimes/todo-app-worker.ts',
      '--data-dir',
      join(folder, 'unused'),
    );
    expect(code).toBe(1);
    expect(output).toContain(
      '[strata] failed: Error: test/fixtures/runtimes/todo-app-worker.ts exports no app definition',
    );
    expect(output).not.toContain('listening');
  });
});
