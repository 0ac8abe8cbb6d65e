// fake-indexeddb stands in for the browser's IndexedDB; a real edge server on Postgres serves sync.
import 'fake-indexeddb/auto';
import { afterAll, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../fixtures/sync-harness.ts';

let server: TestServer | undefined;

afterAll(async () => {
  vi.unstubAllGlobals();
  await server?.stop();
});

it('the sync example in the README runs and prints what its comments say', async () => {
  server = await startTestServer();
  // In a browser `location` is the page's; the example syncs with the page's own origin.
  vi.stubGlobal('location', new URL(server.url));
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await import('./readme-sync-example.ts');
  await vi.waitFor(() => {
    expect(log).toHaveBeenCalledWith({ leader: true, connected: true, pending: 0 });
    expect(log).toHaveBeenCalledWith([]);
  });
  log.mockRestore();
  expect((await server.events()).map((event) => [event.aggregateId, event.type])).toEqual([
    ['todo-1', 'TodoAdded'],
  ]);
});
