/**
 * What the demo's build is made from, and a hash of it: `pnpm start` rebuilds the app only when
 * that hash differs from the one stored with the last build (`dist/.build-inputs.json`).
 *
 * The inputs are the files the last build bundled (every module Vite loaded from this repository:
 * the demo's sources and those of the workspace packages it imports, each with the package.json
 * that resolved it), the build's own files (index.html, vite.config.ts, package.json,
 * tsconfig.json, public/), the lockfile (every dependency in node_modules), and the environment the
 * build reads (STRATA_DEMO_VERSION). A new file is an input once a changed file imports it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** The stamp's file name in the output folder (a dotfile: no page asks for it). */
export const STAMP_FILE = '.build-inputs.json';

/** The environment variables the build reads (vite.config.ts's `define`). */
const ENV_INPUTS = ['STRATA_DEMO_VERSION'] as const;

interface Stamp {
  /** The bundled modules, relative to the repository, sorted. */
  readonly modules: readonly string[];
  readonly hash: string;
}

/** Where things are: the demo folder and the repository (the lockfile's folder). */
export interface DemoLayout {
  readonly demoDir: string;
  readonly repoDir: string;
}

/** The build's own files, relative to the repository: each present one is an input. */
async function buildFiles({ demoDir, repoDir }: DemoLayout): Promise<string[]> {
  const fixed = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'].map((name) =>
    join(demoDir, name),
  );
  const publicDir = join(demoDir, 'public');
  const published = existsSync(publicDir)
    ? (await readdir(publicDir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
    : [];
  return [...fixed, ...published, join(repoDir, 'pnpm-lock.yaml')].map((file) =>
    relative(repoDir, file),
  );
}

/**
 * The repository's own files among the module ids of a build (no virtual modules, nothing from
 * node_modules: the lockfile stands for those), with the package.json nearest to each.
 */
export function bundledFiles(moduleIds: Iterable<string>, repoDir: string): string[] {
  const files = new Set<string>();
  for (const id of moduleIds) {
    const file = id.split('?')[0] ?? id;
    if (!file.startsWith(repoDir + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    if (!existsSync(file)) continue;
    files.add(relative(repoDir, file));
    for (let dir = dirname(file); dir.startsWith(repoDir + sep); dir = dirname(dir)) {
      if (existsSync(join(dir, 'package.json'))) {
        files.add(relative(repoDir, join(dir, 'package.json')));
        break;
      }
    }
  }
  return [...files].sort();
}

/** The hash of `modules`, the build's own files and the environment, as they are now. */
export async function inputsHash(
  layout: DemoLayout,
  modules: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const hash = createHash('sha256');
  const files = [...new Set([...modules, ...(await buildFiles(layout))])].sort();
  for (const file of files) {
    // The name and the content, each ended by a NUL: a missing file hashes apart from an empty one.
    hash.update(`${file}\0`);
    const content = await readFile(join(layout.repoDir, file)).catch(() => undefined);
    hash.update(content === undefined ? 'missing' : `${content.length}:`);
    if (content !== undefined) hash.update(content);
    hash.update('\0');
  }
  for (const name of ENV_INPUTS) hash.update(`${name}=${env[name] ?? ''}\0`);
  return hash.digest('hex');
}

/** Whether `outDir` holds a build of the inputs as they are now. */
export async function isBuildCurrent(layout: DemoLayout, outDir: string): Promise<boolean> {
  if (!existsSync(join(outDir, 'index.html'))) return false;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(outDir, STAMP_FILE), 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (!Array.isArray(stamp.modules) || typeof stamp.hash !== 'string') return false;
  return (await inputsHash(layout, stamp.modules)) === stamp.hash;
}

/** Records, after a build that succeeded, what it was made of. */
export async function writeStamp(
  layout: DemoLayout,
  outDir: string,
  moduleIds: Iterable<string>,
): Promise<void> {
  const modules = bundledFiles(moduleIds, layout.repoDir);
  const stamp: Stamp = { modules, hash: await inputsHash(layout, modules) };
  await writeFile(join(outDir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}
