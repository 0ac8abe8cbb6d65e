// fake-indexeddb stands in for the browser's IndexedDB.
import 'fake-indexeddb/auto';
import { expect, it, vi } from 'vitest';

it('the browser example in the README runs and prints what its comments say', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-example.ts');
  await vi.waitFor(() => {
    expect(log).toHaveBeenCalledWith([{ id: 'todo-1', title: 'Buy milk' }]);
    expect(log).toHaveBeenCalledWith({ status: 'active', title: 'Buy milk' }, 1);
  });
  log.mockRestore();
});
