import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer } from './server.ts';

// A real folder: PGlite runs initdb in it (seconds), hence the process tier.
const quiet = { handleSignals: false, log: () => undefined, warn: () => undefined } as const;
let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'strata-data-folder-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

describe('startNodeServer on PGlite in a folder', () => {
  it('creates the data folder and its missing parents', async () => {
    const dataDir = join(folder, 'data', 'nested', 'strata');
    const nested = await startNodeServer({ ...quiet, port: 0, hostname: '127.0.0.1', dataDir });
    try {
      expect((await stat(dataDir)).isDirectory()).toBe(true);
      expect(await (await fetch(`${nested.url}/healthz`)).json()).toEqual({ ok: true });
    } finally {
      await nested.close();
    }
  }, 30_000);
});
