import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commit, fetchAt, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SpawnedServer,
  spawnProcess,
  spawnServer,
} from '../../test/fixtures/node/spawn-server.ts';
import { acquireDataDirLock, DATA_DIR_LOCK_FILE, DataDirLockedError } from './data-dir-lock.ts';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const cli = (...args: string[]) =>
  [process.execPath, ['--import', 'tsx', 'src/node/main.ts', ...args]] as const;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'strata-lock-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** A pid no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  return Number(child.stdout.trim());
}

describe('acquireDataDirLock', () => {
  it('holds the folder: a second taker is refused with the holder pid, until it is released', () => {
    const lock = acquireDataDirLock(folder);
    let refusal: unknown;
    try {
      acquireDataDirLock(folder);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as DataDirLockedError).holderPid).toBe(process.pid);
    expect((refusal as Error).message).toContain(folder);
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(join(folder, DATA_DIR_LOCK_FILE))).toBe(false);
    acquireDataDirLock(folder).release();
  });

  it('takes over a lock left by a process that is gone, or a half-written one', () => {
    const path = join(folder, DATA_DIR_LOCK_FILE);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), hostname: 'h', since: 'then' }));
    const lock = acquireDataDirLock(folder);
    lock.release();
    writeFileSync(path, '{"pid":');
    acquireDataDirLock(folder).release();
  });

  it('release leaves a lock that is not its own', () => {
    const path = join(folder, DATA_DIR_LOCK_FILE);
    const lock = acquireDataDirLock(folder);
    const successor = { pid: 1, hostname: 'h', since: 'now' }; // pid 1 is always alive
    writeFileSync(path, JSON.stringify(successor));
    lock.release();
    expect(existsSync(path)).toBe(true);
    expect(() => acquireDataDirLock(folder)).toThrow(/pid 1\)/);
    writeFileSync(path, JSON.stringify({ ...successor, pid: deadPid() }));
    acquireDataDirLock(folder).release();
  });
});

describe('two Node servers on one PGlite folder (issue 12, item 14)', () => {
  let first: SpawnedServer | undefined;
  let third: SpawnedServer | undefined;
  afterAll(async () => {
    await first?.stop('SIGKILL');
    await third?.stop('SIGKILL');
  });

  it('the second refuses, naming the folder and the holder; the first serves on; then a new one starts', async () => {
    const dataDir = join(folder, 'db');
    const [node, args] = cli('--port', '0', '--data-dir', dataDir);
    first = await spawnServer(node, args, { cwd: packageDir });
    const client = syncClient(fetchAt(first.url));
    await client.push(commit('c1', todoEvent('locked-1', 1)));

    const second = spawnProcess(node, args, { cwd: packageDir });
    expect(await second.exited, second.output()).not.toBe(0);
    expect(second.output()).toContain(`The data folder ${dataDir} is in use`);
    expect(second.output()).toContain(`(pid ${first.pid})`);
    expect(second.output()).not.toContain('listening on');

    expect((await client.pullAll()).map((event) => event.aggregateId)).toEqual(['locked-1']);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);

    third = await spawnServer(node, args, { cwd: packageDir });
    expect(
      (await syncClient(fetchAt(third.url)).pullAll()).map((event) => event.aggregateId),
    ).toEqual(['locked-1']);
  }, 120_000);
});
