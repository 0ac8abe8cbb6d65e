/**
 * The machine a bench run measured, for the markdown report: CPU, cores, memory, OS, Node, the
 * file system the throwaway Postgres clusters live on (their data folder is in the temp folder),
 * the Chromium the browser benches use, and the git commit. Node only.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { CHROMIUM_PATH } from '../chromium.ts';
import type { Machine } from './report.ts';

const run = promisify(execFile);

/** The mount that holds `path` (longest mount point prefix), from /proc/mounts. */
export function mountOf(path: string, mounts: string): string | undefined {
  let best: { point: string; line: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [device, point, type] = line.split(' ');
    if (device === undefined || point === undefined || type === undefined) continue;
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (best === undefined || point.length >= best.point.length)) {
      best = { point, line: `${type} (${device} on ${point})` };
    }
  }
  return best?.line;
}

async function gitCommit(root: string): Promise<string> {
  try {
    const { stdout: head } = await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root });
    const { stdout: status } = await run('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
    });
    return `${head.trim()}${status.trim() === '' ? '' : ' + uncommitted changes'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function chromiumVersion(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM_PATH)) return undefined;
  try {
    const { stdout } = await run(CHROMIUM_PATH, ['--version'], { timeout: 10_000 });
    return `${stdout.trim()} (${CHROMIUM_PATH})`;
  } catch {
    return undefined;
  }
}

/** Collects the machine; `notes` are what the bench machinery noted (environment.ts). */
export async function collectMachine(
  root: string,
  notes: ReadonlyMap<string, readonly string[]>,
): Promise<Machine> {
  const all = new Map(notes);
  const chromium = await chromiumVersion();
  if (chromium !== undefined && !all.has('Chromium')) all.set('Chromium', [chromium]);
  const mounts = existsSync('/proc/mounts') ? readFileSync('/proc/mounts', 'utf8') : '';
  const mount = mountOf(tmpdir(), mounts);
  if (mount !== undefined)
    all.set('Temp folder (Postgres data folders)', [`${tmpdir()}: ${mount}`]);
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    commit: await gitCommit(root),
    date: new Date().toISOString(),
    notes: all,
  };
}
