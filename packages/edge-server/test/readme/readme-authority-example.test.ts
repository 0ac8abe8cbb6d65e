import { expect, it, vi } from 'vitest';

it('the authority example in the README runs and prints what its comments say', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-authority-example.ts');
  expect(log.mock.calls).toEqual([
    ['accepted', 'apple', 'ann'],
    ['rejected', 'DOMAIN_RULE_VIOLATED', 'A cart holds at most 10 items'],
  ]);
  log.mockRestore();
}, 60_000);
