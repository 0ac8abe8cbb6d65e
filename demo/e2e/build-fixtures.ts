/**
 * Node-side helpers of the tests of `pnpm start`'s build step (`src/build-inputs.test.ts`,
 * `src/ensure-build.process.test.ts`): repositories in temporary folders. Outside `src/` because
 * they use Node's modules.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = join(DEMO_DIR, '..');

/** A repository in a temporary folder: its files by path, changed and read by path. */
export interface TempRepository {
  readonly repoDir: string;
  readonly demoDir: string;
  /** The absolute path of `file` (relative to the repository). */
  path(file: string): string;
  write(file: string, content: string): Promise<void>;
  append(file: string, content: string): Promise<void>;
  remove(file: string): Promise<void>;
  /** When `file` was last written, in ms. */
  modifiedAt(file: string): Promise<number>;
  /** Deletes the whole folder. */
  dispose(): Promise<void>;
}

async function tempRepository(label: string): Promise<TempRepository> {
  const repoDir = await mkdtemp(join(tmpdir(), `strata-${label}-`));
  const path = (file: string) => join(repoDir, file);
  return {
    repoDir,
    demoDir: path('demo'),
    path,
    async write(file, content) {
      await mkdir(join(path(file), '..'), { recursive: true });
      await writeFile(path(file), content);
    },
    append: (file, content) => appendFile(path(file), content),
    remove: (file) => rm(path(file), { recursive: true, force: true }),
    modifiedAt: async (file) => (await stat(path(file))).mtimeMs,
    dispose: () => rm(repoDir, { recursive: true, force: true }),
  };
}

/** A repository holding `files` (path → content). */
export async function repositoryWith(files: Record<string, string>): Promise<TempRepository> {
  const repository = await tempRepository('build-inputs');
  for (const [file, content] of Object.entries(files)) await repository.write(file, content);
  return repository;
}

/**
 * A copy of the demo (what its build reads, and its build step) with the lockfile and the root
 * tsconfig, and its node_modules linked to the checkout's: a source can be changed there without
 * touching the checkout. The workspace packages resolve into the checkout.
 */
export async function demoCopy(): Promise<TempRepository> {
  const repository = await tempRepository('demo-start');
  const demo = [
    'index.html',
    'vite.config.ts',
    'package.json',
    'tsconfig.json',
    'build-inputs.ts',
    'ensure-build.ts',
    'src',
    'public',
  ];
  await mkdir(repository.demoDir);
  for (const name of demo) {
    await cp(join(DEMO_DIR, name), join(repository.demoDir, name), { recursive: true });
  }
  for (const name of ['pnpm-lock.yaml', 'tsconfig.json']) {
    await cp(join(REPO_DIR, name), repository.path(name));
  }
  await symlink(join(DEMO_DIR, 'node_modules'), join(repository.demoDir, 'node_modules'), 'dir');
  return repository;
}

/** Runs `demo/ensure-build.ts` of `repository` as `pnpm start` does; its output. */
export async function runBuildStep(
  repository: TempRepository,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  const { stdout } = await run(
    join(REPO_DIR, 'node_modules/.bin/tsx'),
    [join(repository.demoDir, 'ensure-build.ts')],
    { cwd: repository.repoDir, env: { ...process.env, STRATA_DEMO_VERSION: '', ...env } },
  );
  return stdout;
}
