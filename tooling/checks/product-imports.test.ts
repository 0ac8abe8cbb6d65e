import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder, importsOf, productFiles, ROOT, resolveRelative } from './source-graph.ts';

/**
 * Product code ships: it must not pull in the test runner, a fixture, a shared suite or the
 * repository's tooling. The one exception is core's public testing entry (`@strata/core/testing`),
 * which exists to be used inside a user's Vitest suite (vitest is its optional peer).
 */
const TEST_RUNNER_ALLOWED = /^packages\/core\/src\/testing\//;

function forbiddenImports(file: string): string[] {
  return importsOf(readFileSync(join(ROOT, file), 'utf8')).filter((specifier) => {
    if (/^(vitest|@vitest\/)/.test(specifier)) return !TEST_RUNNER_ALLOWED.test(file);
    if (/^@strata\/tooling/.test(specifier)) return true;
    const target = resolveRelative(file, specifier) ?? specifier;
    return (
      /(^|\/)tooling\//.test(target) ||
      /(^|\/)(fixtures|suites|bench|e2e)\//.test(target) ||
      /\/test\//.test(target) ||
      /\.(test|bench)\.tsx?$|-suite\.ts$/.test(target)
    );
  });
}

describe('product code', () => {
  it('imports no test runner, fixture, suite, bench or tooling', () => {
    const files = productFiles();
    expect(files.length).toBeGreaterThan(100);
    const offenders = files
      .map((file) => ({ file, imports: forbiddenImports(file) }))
      .filter((entry) => entry.imports.length > 0);
    expect(offenders).toEqual([]);
  });

  it('is reached from tooling and other packages only by package name, never by path', () => {
    const files = ['tooling', 'packages', 'demo']
      .flatMap((dir) => filesUnder(join(ROOT, dir)))
      .filter((path) => /\.tsx?$/.test(path));
    const packageOf = (file: string) => /^(packages\/[^/]+|tooling|demo)\//.exec(file)?.[1];
    const crossings = files.flatMap((path) => {
      const file = relative(ROOT, path);
      return importsOf(readFileSync(path, 'utf8'))
        .map((specifier) => ({ specifier, target: resolveRelative(file, specifier) }))
        .filter(({ target }) => target !== undefined && packageOf(target) !== packageOf(file))
        .map(({ specifier }) => `${file} → ${specifier}`);
    });
    expect(files.length).toBeGreaterThan(300);
    expect(crossings).toEqual([]);
  });
});
