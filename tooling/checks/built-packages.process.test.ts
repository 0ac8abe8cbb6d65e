/**
 * What `pnpm build` ships: each published package is built here the way its `build` script
 * builds it (into a throwaway folder), and the output is read file by file. No test, bench,
 * fixture, suite or e2e app may be in it, no shipped module may import the test runner (core's
 * testing entry excepted: it is for users' Vitest suites), and every `publishConfig` export
 * must point at a file the build made.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, importsOf, ROOT } from './source-graph.ts';

const run = promisify(execFile);

interface Manifest {
  name: string;
  private?: boolean;
  scripts?: Record<string, string>;
  publishConfig?: { exports?: Record<string, { types: string; default: string }> };
}

const published = readdirSync(join(ROOT, 'packages'))
  .map((dir) => ({
    dir: join(ROOT, 'packages', dir),
    manifest: JSON.parse(
      readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'),
    ) as Manifest,
  }))
  .filter(({ manifest }) => manifest.private !== true);

const out = mkdtempSync(join(tmpdir(), 'strata-built-'));
const builds = new Map<string, string[]>();

beforeAll(async () => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await Promise.all(
    published.map(async ({ dir, manifest }) => {
      const outDir = join(out, manifest.name);
      // Checked as the build checks (no --noCheck): declaration emit has errors of its own.
      await run(process.execPath, [
        tsc,
        '-p',
        join(dir, 'tsconfig.build.json'),
        '--outDir',
        outDir,
      ]);
      builds.set(
        manifest.name,
        filesUnder(outDir).map((file) => relative(outDir, file)),
      );
    }),
  );
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('built packages', () => {
  it('are every published package, each with a build script', () => {
    expect(published.map(({ manifest }) => manifest.name).sort()).toEqual([
      '@strata/browser',
      '@strata/core',
      '@strata/edge-server',
    ]);
    for (const { manifest } of published) {
      expect(manifest.scripts?.build, manifest.name).toMatch(/tsc -p tsconfig\.build\.json/);
    }
  });

  it('hold no test, bench, fixture, suite or e2e code', () => {
    for (const [name, files] of builds) {
      expect(files.length, name).toBeGreaterThan(10);
      const scaffolding = files.filter((file) =>
        /(^|\/)(test|fixtures|suites|bench|e2e)\/|\.(test|test-d|bench)\.|-suite\.|readme-.*example/.test(
          file,
        ),
      );
      expect(scaffolding, name).toEqual([]);
    }
  });

  it('import no test runner outside core’s testing entry', () => {
    for (const [name, files] of builds) {
      const offenders = files
        .filter((file) => file.endsWith('.js'))
        .filter((file) => !(name === '@strata/core' && file.startsWith('testing/')))
        .filter((file) =>
          importsOf(readFileSync(join(out, name, file), 'utf8')).some((specifier) =>
            /^(vitest|@vitest\/|@strata\/tooling)/.test(specifier),
          ),
        );
      expect(offenders, name).toEqual([]);
    }
  });

  it('have a built file for every published export', () => {
    for (const { manifest } of published) {
      const exports = Object.values(manifest.publishConfig?.exports ?? {});
      expect(exports.length, manifest.name).toBeGreaterThan(0);
      for (const target of exports.flatMap((entry) => [entry.types, entry.default])) {
        const file = join(out, manifest.name, target.replace(/^\.\/dist\//, ''));
        expect(existsSync(file), `${manifest.name}: ${target}`).toBe(true);
      }
    }
  });
});
