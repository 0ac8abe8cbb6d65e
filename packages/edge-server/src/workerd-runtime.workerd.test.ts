import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Echo {
  path: string;
  method: string;
  body: string | null;
  userAgent: string;
  uuid: string;
}

let worker: WorkerdHandle;

beforeAll(async () => {
  worker = await runInWorkerd({
    entry: new URL('../test/fixtures/echo-worker.ts', import.meta.url),
  });
});

afterAll(async () => {
  await worker?.dispose();
});

describe('workerd runtime', () => {
  it('runs the worker in Cloudflare workerd', async () => {
    const response = await worker.fetch('/hello');
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.userAgent).toBe('Cloudflare-Workers');
    expect(echo.path).toBe('/hello');
    expect(echo.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('passes request bodies through', async () => {
    const response = await worker.fetch('/events', { method: 'POST', body: 'payload' });
    const echo = (await response.json()) as Echo;
    expect(echo).toMatchObject({ method: 'POST', body: 'payload' });
  });
});
