// fake-indexeddb stands in for the browser's IndexedDB; the edge server runs in-process on PGlite.
import 'fake-indexeddb/auto';
import { expect, it, vi } from 'vitest';

it('the scopes example in the README runs and prints what its comments say', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-scopes-example.ts');
  expect(log.mock.calls).toEqual([
    ['Launch'],
    [['launch'], ['launch', 'storm']],
    [403, ['project:{"projectId":"apollo"}']],
  ]);
  log.mockRestore();
}, 60_000);
