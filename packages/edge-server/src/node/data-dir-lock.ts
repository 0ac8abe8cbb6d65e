/**
 * One process at a time in an embedded PGlite data folder (issue 12, item 14). PGlite takes no
 * lock of its own (its `postmaster.pid` holds a fixed -42; electric-sql/pglite#1106 asks for
 * one), and two processes writing one folder corrupt it. So the Node server holds a lock file in
 * the folder, created exclusively with its pid: a second server refuses to start, naming the
 * folder and the holder. A lock left by a process that is gone (killed) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lock file's name inside the data folder. */
export const DATA_DIR_LOCK_FILE = 'strata-server.lock';

/** What the lock file holds (JSON). */
interface LockContent {
  readonly pid: number;
  readonly hostname: string;
  readonly since: string;
}

/** A data folder another live process holds. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `The data folder ${dataDir} is in use by another strata process (pid ${holderPid}). ` +
        'Stop it first, or give this server its own folder (--data-dir / STRATA_DATA_DIR). ' +
        `If no such process runs, delete ${join(dataDir, DATA_DIR_LOCK_FILE)}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock; `release` is idempotent. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the folder's lock or throws `DataDirLockedError`. Released by `release()`, and at
 * process exit (a `SIGKILL`ed process leaves it behind: the next one sees the pid is gone).
 *
 * @example
 * const lock = acquireDataDirLock('/srv/strata/.data');
 * try { ... } finally { lock.release(); }
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  const content: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
  };
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 3; round++) {
    if (tryCreate(path, content)) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        // Only our own lock: never one a successor took over.
        if (readLock(path)?.pid === process.pid) unlinkSync(path);
      };
      process.on('exit', release);
      return { path, release };
    }
    const holder = readLock(path);
    if (holder !== undefined && isAlive(holder.pid)) {
      throw new DataDirLockedError(dataDir, holder.pid);
    }
    // Stale (its process is gone) or unreadable (a crash while writing it): take it over.
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error(`Could not take the lock ${path}: other processes keep taking it`);
}

/**
 * Holds the lock on `dataDir` (when it is a folder, not `memory://` or undefined) around
 * `open`, and releases it after the opened thing's `close()`, or when `open` fails.
 *
 * @example
 * const server = await withDataDirLock(dataDir, () => createServerApp(settings));
 */
export async function withDataDirLock<T extends { close(): Promise<void> }>(
  dataDir: string | undefined,
  open: () => Promise<T>,
): Promise<T> {
  if (dataDir === undefined || dataDir.includes('://')) return open();
  const lock = acquireDataDirLock(dataDir);
  let opened: T;
  try {
    opened = await open();
  } catch (error) {
    lock.release();
    throw error;
  }
  const close = opened.close.bind(opened);
  return Object.assign(opened, {
    close: async () => {
      try {
        await close();
      } finally {
        lock.release();
      }
    },
  });
}

function tryCreate(path: string, content: LockContent): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx'); // O_CREAT | O_EXCL: exactly one process wins
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(content)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(path: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0
      ? (parsed as LockContent)
      : undefined;
  } catch {
    return undefined; // missing, or half-written by a process that died
  }
}

/** Signal 0 checks that the process exists (EPERM: it does, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
