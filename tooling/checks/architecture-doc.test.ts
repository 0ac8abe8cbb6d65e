import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './source-graph.ts';

/** docs/architecture.md stays true: every repository path it names in backticks exists. */
describe('docs/architecture.md', () => {
  const text = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const paths = [...text.matchAll(/`((?:packages|tooling|docs|demo)\/[^`\s]+)`/g)].map(
    (match) => match[1] as string,
  );

  it('names the files and folders it describes', () => {
    expect(paths.length).toBeGreaterThan(40);
  });

  it('names only paths that exist', () => {
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
