/**
 * A strata edge server for the sync benchmarks (Node side only).
 *
 * It runs in a child process of its own (sync-server-process.ts, forked with this process's
 * `execArgv`, i.e. tsx's loader), so that a Node bench's client and the server do not share one
 * event loop, as they never do in production. The database is a throwaway Postgres cluster
 * (tooling/postgres/cluster.ts: durable, fsync on, in a temp folder) reached through the Neon driver and
 * the same local WebSocket proxy the pg test tier uses; without Postgres server binaries it falls
 * back to PGlite (in the server's process). `database` says which, for the benchmark names. The server
 * validates events with `Todo`'s definitions (with `notes: true` it also decides `Note` commands,
 * snapshotting notes as it goes) and authenticates JWTs signed with `jwtSecret` (HS256, claims
 * `sub` and `tenant`): benchmarks take a fresh tenant per run to start empty.
 *
 * `BENCH_SYNC_DATABASE=postgres|pglite` forces a database (default: Postgres when installed).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describeSettings, noteEnvironment } from './environment.ts';
import type {
  SyncServerPostgres,
  SyncServerProcessMessage,
  SyncServerProcessOptions,
  SyncServerProcessRequest,
} from './sync-server-process.ts';

export type { SyncServerPostgres } from './sync-server-process.ts';

const ENTRY = join(import.meta.dirname, 'sync-server-process.ts');

export interface BenchSyncServer {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The server's database, in words. */
  readonly database: string;
  /** The HS256 secret the server verifies bearer tokens with. */
  readonly jwtSecret: string;
  /** The server's Postgres cluster, when it runs on one (not PGlite). */
  readonly postgres: SyncServerPostgres | undefined;
  /**
   * SQL statements the server has sent to Postgres so far (counted at its WebSocket proxy, see
   * counting-ws-proxy.ts); 0 on PGlite.
   */
  statements(): Promise<number>;
  /** Stops the server and removes its database; idempotent. */
  stop(): Promise<void>;
}

export interface BenchSyncServerOptions {
  /** Origins allowed to call the server from a page (CORS). */
  readonly corsOrigins?: readonly string[];
  /** Serve scoped sync too (`SyncServerProcessOptions.scopes`). Defaults to false. */
  readonly scopes?: boolean;
  /**
   * Serve the `Note` aggregate (decided on the server, which snapshots it) and its `folder`
   * scope too (`SyncServerProcessOptions.notes`). Defaults to false.
   */
  readonly notes?: boolean;
  /**
   * A durable cluster (fsync, synchronous_commit, full_page_writes on), as production runs.
   * Defaults to true; false is for an extra figure that says it is one.
   */
  readonly durable?: boolean;
  /** Limits over the server's defaults (`SyncServerProcessOptions.limits`). */
  readonly limits?: SyncServerProcessOptions['limits'];
}

function databaseChoice(): SyncServerProcessOptions['database'] {
  const value = process.env.BENCH_SYNC_DATABASE;
  if (value === undefined || value === '') return 'auto';
  if (value === 'postgres' || value === 'pglite') return value;
  throw new RangeError(`BENCH_SYNC_DATABASE must be postgres or pglite, got ${value}`);
}

/** Starts the server (and its database) in a child process; resolves once it listens. */
export async function startBenchSyncServer(
  options: BenchSyncServerOptions = {},
): Promise<BenchSyncServer> {
  const processOptions: SyncServerProcessOptions = {
    jwtSecret: randomBytes(32).toString('hex'),
    corsOrigins: options.corsOrigins ?? [],
    database: databaseChoice(),
    ...(options.scopes === true ? { scopes: true } : {}),
    ...(options.notes === true ? { notes: true } : {}),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.durable === false ? { durable: false } : {}),
  };
  // BENCH_SERVER_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (where
  // a push's time goes, for the notes of issue 16).
  const profileDir = process.env.BENCH_SERVER_CPU_PROF;
  const child: ChildProcess = fork(ENTRY, [JSON.stringify(processOptions)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(profileDir === undefined
      ? {}
      : { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Extract<SyncServerProcessMessage, { type: 'ready' }>>(
    (resolve, reject) => {
      child.once('message', (message: SyncServerProcessMessage) => {
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'failed') {
          reject(new Error(`The bench sync server failed to start: ${message.message}`));
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`The bench sync server exited with ${code} before it was ready`)),
      );
      child.once('error', reject);
    },
  ).catch(async (error: unknown) => {
    child.kill();
    await exited;
    throw error;
  });
  if (ready.postgres !== undefined) {
    noteEnvironment('Postgres', describeSettings(ready.postgres.settings));
  }
  let stopping: Promise<void> | undefined;
  let requests = 0;
  const answers = new Map<number, (count: number) => void>();
  child.on('message', (message: SyncServerProcessMessage) => {
    if (message.type === 'statements') answers.get(message.id)?.(message.count);
  });
  const request = (message: SyncServerProcessRequest) => child.send(message);
  return {
    url: ready.url,
    database: ready.database,
    jwtSecret: processOptions.jwtSecret,
    postgres: ready.postgres,
    statements() {
      const id = requests++;
      return new Promise<number>((resolve, reject) => {
        answers.set(id, (count) => {
          answers.delete(id);
          resolve(count);
        });
        try {
          request({ type: 'statements', id });
        } catch (error) {
          answers.delete(id);
          reject(error);
        }
      });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.connected) request({ type: 'stop' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
