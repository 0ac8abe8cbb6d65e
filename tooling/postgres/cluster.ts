import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway Postgres cluster in a temp folder, listening on 127.0.0.1 only. */
export interface Cluster {
  readonly databaseUrl: string;
  readonly port: number;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
  /**
   * `pg_ctl stop -m immediate`: the server quits at once, dropping every connection mid-way (as a
   * crash would); the folder stays, so `startAgain` brings the same data back (outage tests).
   */
  stopImmediately(): Promise<void>;
  /** Starts a cluster stopped by `stopImmediately` again, on the same port, with its data. */
  startAgain(): Promise<void>;
}

/** `PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` that has `initdb`. */
export async function findPostgresBin(): Promise<string> {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) {
      throw new Error(
        `PG_BIN=${fromEnv} has no initdb in it. Install Postgres server binaries with: apt-get update && apt-get install -y postgresql`,
      );
    }
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? await readdir(root) : [];
  const bins = versions
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  if (bins[0] === undefined) {
    throw new Error(
      [
        'No PostgreSQL server binaries found for the pg test tier',
        `(looked for $PG_BIN/initdb and ${root}/*/bin/initdb).`,
        'Install them with: apt-get update && apt-get install -y postgresql',
        'or point STRATA_TEST_DATABASE_URL at a running server.',
      ].join('\n'),
    );
  }
  return join(root, bins[0], 'bin');
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Options of `startCluster`. */
export interface StartClusterOptions {
  /**
   * A durable cluster: fsync, synchronous_commit and full_page_writes on, as production runs.
   * Off by default for speed. Benchmarks need it (commit cost and lock waits show only then) and
   * so do outage tests (`stopImmediately` would lose commits still buffered).
   */
  readonly durable?: boolean;
}

/**
 * Creates and starts a cluster. initdb refuses to run as root, so as root the
 * folder is given to the `postgres` user and every command runs through `su`.
 */
export async function startCluster(clusterOptions: StartClusterOptions = {}): Promise<Cluster> {
  const bin = await findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'strata-pg-'));
  const data = join(dir, 'data');
  const log = join(data, 'postgres.log'); // inside the data folder: postgres can write there
  const port = await freePort();

  const sh = async (argv: string[]) => {
    const [cmd = '', ...args] = argv;
    if (!asRoot) return run(cmd, args);
    return run('su', ['postgres', '-s', '/bin/sh', '-c', argv.map(quote).join(' ')]);
  };

  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(uid.trim()), Number(gid.trim()));
  }

  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${dir}`, // unix socket in our folder, not a shared /tmp or /var/run path
    // Throwaway data: durability off for speed, unless asked for.
    ...(clusterOptions.durable === true
      ? ['-c fsync=on', '-c synchronous_commit=on', '-c full_page_writes=on']
      : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');

  const pgCtlStart = () =>
    sh([join(bin, 'pg_ctl'), '-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);

  try {
    await sh([
      join(bin, 'initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    await pgCtlStart();
  } catch (error) {
    const tail = await readFile(log, 'utf8').catch(() => '(no server log)');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Could not start a throwaway Postgres in ${dir}: ${String(error)}\n${tail}`);
  }

  let running = true;
  return {
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      try {
        if (running) await sh([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async stopImmediately() {
      await sh([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async startAgain() {
      // After an immediate stop the server replays its WAL first (crash recovery); -w waits for it.
      await pgCtlStart();
      running = true;
    },
  };
}
