import { afterEach, describe, expect, it } from 'vitest';
import { bundledFiles, inputsHash } from '../build-inputs.ts';
import { repositoryWith, type TempRepository } from '../e2e/build-fixtures.ts';

const repositories: TempRepository[] = [];
afterEach(async () => {
  for (const repository of repositories.splice(0)) await repository.dispose();
});

/** A repository with a demo and a workspace package, as the build sees them. */
async function repository(): Promise<TempRepository> {
  const made = await repositoryWith({
    'pnpm-lock.yaml': 'lockfileVersion: 9\n',
    'demo/index.html': '<div id="root"></div>',
    'demo/vite.config.ts': 'export default {};',
    'demo/package.json': '{}',
    'demo/public/icon.svg': '<svg/>',
    'demo/src/main.tsx': 'import "@strata/core";',
    'packages/core/package.json': '{"name":"@strata/core"}',
    'packages/core/src/index.ts': 'export const a = 1;',
  });
  repositories.push(made);
  return made;
}

describe('the demo build inputs', () => {
  it("are the repository's bundled files with their package.json, not node_modules or virtual ids", async () => {
    const repo = await repository();
    const ids = [
      repo.path('demo/src/main.tsx'),
      `${repo.path('packages/core/src/index.ts')}?used`,
      repo.path('node_modules/react/index.js'),
      '\0virtual:pwa-register/react',
      '/elsewhere/file.ts',
    ];
    expect(bundledFiles(ids, repo.repoDir)).toEqual([
      'demo/package.json',
      'demo/src/main.tsx',
      'packages/core/package.json',
      'packages/core/src/index.ts',
    ]);
  });

  it('hash apart when a bundled file, a build file, the lockfile or the version changes', async () => {
    const repo = await repository();
    const modules = bundledFiles(
      [repo.path('demo/src/main.tsx'), repo.path('packages/core/src/index.ts')],
      repo.repoDir,
    );
    const env = { STRATA_DEMO_VERSION: '1' };
    const hash = () => inputsHash(repo, modules, env);
    const seen = new Set([await hash()]);
    expect(seen.has(await hash())).toBe(true);
    const changes = [
      'packages/core/src/index.ts',
      'demo/src/main.tsx',
      'demo/vite.config.ts',
      'demo/public/icon.svg',
      'pnpm-lock.yaml',
      // A new file in public/ (copied into the build as it is).
      'demo/public/new.png',
    ];
    for (const file of changes) {
      await repo.write(file, `changed ${file}`);
      const changed = await hash();
      expect(seen.has(changed), file).toBe(false);
      seen.add(changed);
    }
    expect(seen.has(await inputsHash(repo, modules, { STRATA_DEMO_VERSION: '2' }))).toBe(false);
    // A file that goes counts too.
    await repo.remove('packages/core/src/index.ts');
    expect(seen.has(await hash())).toBe(false);
  });
});
