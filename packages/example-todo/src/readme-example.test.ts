import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readmeUrl = new URL('../../../README.md', import.meta.url);
const exampleUrl = new URL('./readme-example.ts', import.meta.url);

describe('the README example', () => {
  it('is this file, word for word', () => {
    const readme = readFileSync(readmeUrl, 'utf8');
    const block = /<!-- example: readme-example\.ts -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README.md has the example block').toBeDefined();
    expect(block).toBe(readFileSync(exampleUrl, 'utf8'));
  });

  it('runs and prints what its comment says', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await import('./readme-example.ts');
    expect(log).toHaveBeenCalledWith({ items: { apple: 5 } }, 2);
    log.mockRestore();
  });
});
