import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
// Every `<!-- example: path -->` block in the README must be that file, word for word; the
// files themselves are run by tests next to them.
const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\s*```ts\n([\s\S]*?)```/g)];

describe('README examples', () => {
  it('has the examples', () => {
    expect(blocks.map(([, path]) => path)).toEqual([
      'packages/example-todo/src/readme-example.ts',
      'packages/example-todo/src/readme-versions-example.ts',
      'packages/browser/test/readme/readme-example.ts',
      'packages/browser/test/readme/readme-sync-example.ts',
      'packages/browser/test/readme/readme-devtools-example.ts',
      'packages/edge-server/test/readme/readme-authority-example.ts',
      'packages/browser/test/readme/readme-scopes-example.ts',
      'packages/edge-server/test/readme/readme-server-example.ts',
    ]);
  });

  it.each(blocks.map(([, path, code]) => [path, code]))(
    '%s is in the README word for word',
    (path, code) => {
      expect(code).toBe(readFileSync(new URL(path as string, root), 'utf8'));
    },
  );

  it('the core example runs and prints what its comment says', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await import('./readme-example.ts');
    expect(log).toHaveBeenCalledWith({ items: { apple: 5 } }, 2);
    log.mockRestore();
  });
});
