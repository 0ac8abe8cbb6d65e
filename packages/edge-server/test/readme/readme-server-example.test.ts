import { expect, it, vi } from 'vitest';

it('the server example in the README runs and prints what its comments say', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-server-example.ts');
  expect(log.mock.calls).toEqual([
    ['stored TodoAdded by ann', 'DOMAIN_RULE_VIOLATED'],
    ['notify:', 'TodoAdded'],
    [[{ id: 't1', title: 'Buy milk' }]],
    ['mail about', 't1'],
    [true],
  ]);
  log.mockRestore();
}, 60_000);
