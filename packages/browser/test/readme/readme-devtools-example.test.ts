// fake-indexeddb stands in for the browser's IndexedDB.
import 'fake-indexeddb/auto';
import { expect, it, vi } from 'vitest';

it('the devtools example in the README runs and prints what its comments say', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-devtools-example.ts');
  await vi.waitFor(() => {
    expect(log).toHaveBeenCalledWith(1, ['todo-1 v1 TodoAdded pending']);
    expect(log).toHaveBeenCalledWith({ status: 'active', title: 'Buy milk' }, 1);
    expect(log).toHaveBeenCalledWith('1 pending');
    // Live queries deliver on their own schedule: generous on a loaded machine.
  }, 10_000);
  log.mockRestore();
});
