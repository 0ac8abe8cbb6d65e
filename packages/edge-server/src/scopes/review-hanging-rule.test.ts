// Adversarial review of issue 15: a scope rule that never answers (a rule backend without a
// timeout) during an open subscription's periodic re-check must not keep its subscription slot
// once the client has gone.
import { readServerSentEvents } from '@strata/core';
import { project } from '@strata/example-todo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import type { Principal } from '../app/auth.ts';
import type { SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';

const pglite = useMigratedPglite();
let app: SyncApp;
let hang = false;
beforeAll(() => {
  app = taskScopesApp(
    pgliteDatabase(pglite()),
    'hang',
    {
      project: () => (hang ? new Promise<boolean>(() => undefined) : true),
      assignedTo: () => true,
    },
    { limits: { maxSubscriptionsPerPrincipal: 1 }, heartbeatMs: 30 },
  );
});
afterAll(async () => {
  await app?.close();
});

const P1 = project({ projectId: 'p1' }).key;
const open = (signal: AbortSignal) =>
  app.request(`/v2/subscribe?scope=${encodeURIComponent(P1)}`, {
    headers: { 'x-user': 'ann' },
    signal,
  });

describe('review: a rule that hangs at the re-check', () => {
  it('(control) a client that leaves frees its slot when the rule answers', async () => {
    const first = new AbortController();
    const response = await open(first.signal);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    first.abort();
    await reader.cancel().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const second = new AbortController();
    const again = await open(second.signal);
    second.abort();
    await again.body?.cancel().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(again.status).toBe(200);
  });

  it('frees the subscription slot when the client leaves', async () => {
    const first = new AbortController();
    const response = await open(first.signal);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // caught-up
    hang = true;
    await new Promise((resolve) => setTimeout(resolve, 120)); // a re-check is now stuck
    hang = false;
    first.abort();
    await reader.cancel().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 120));
    // The rule answers again; the device reconnects.
    const second = new AbortController();
    const again = await open(second.signal);
    second.abort();
    await again.body?.cancel().catch(() => undefined);
    // Today: 429 RATE_LIMITED, the first stream's slot is held for ever.
    expect(again.status).toBe(200);
  });

  it('answers 503 UNAVAILABLE problem+json when a rule misses its deadline, and a re-check past it ends the stream with closing', async () => {
    let late = false;
    const strict = taskScopesApp(
      pgliteDatabase(pglite()),
      'hang',
      {
        project: () => (late ? new Promise<boolean>(() => undefined) : true),
        assignedTo: () => true,
      },
      {
        authenticate: (): Principal => ({ tenant: 'hang', subject: 'ann' }),
        scopeOptions: { ruleTimeoutMs: 50 },
        heartbeatMs: 30,
      },
    );
    try {
      const controller = new AbortController();
      const response = await strict.request(`/v2/subscribe?scope=${encodeURIComponent(P1)}`, {
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
      expect(JSON.parse((await messages.next()).value?.data ?? '{}').kind).toBe('caught-up');
      late = true;
      let last: { kind?: string; reason?: string } = {};
      for (;;) {
        const { value, done } = await messages.next();
        if (done) break;
        last = JSON.parse(value.data);
      }
      controller.abort();
      expect(last).toMatchObject({ kind: 'closing', reason: 'access-changed' });

      for (const request of [
        strict.request(`/v2/subscribe?scope=${encodeURIComponent(P1)}`),
        strict.request('/v2/pull', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ scopes: [{ scope: P1 }] }),
        }),
      ]) {
        const refused = await request;
        expect(refused.status).toBe(503);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(((await refused.json()) as { code: string }).code).toBe('UNAVAILABLE');
      }
    } finally {
      await strict.close();
    }
  });
});
