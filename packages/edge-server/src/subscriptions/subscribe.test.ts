import type { PGlite } from '@electric-sql/pglite';
import {
  newKsuid,
  readServerSentEvents,
  type SubscriptionMessage,
  SubscriptionMessageSchema,
} from '@strata/core';
import { createMigratedPglite } from '@strata/tooling/pglite/test-pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singleTenant } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { pgliteListen } from './listen-source.ts';

let pglite: PGlite;
let app: SyncApp;

beforeAll(async () => {
  pglite = await createMigratedPglite();
  app = createSyncApp({
    database: pgliteDatabase(pglite),
    authenticate: (request) => singleTenant(request.headers.get('x-tenant') ?? 'a')(request),
    listen: pgliteListen(pglite),
    pollIntervalMs: 10_000, // wake-ups must come from notifications, not polling
    heartbeatMs: 150,
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pglite?.close();
});

const event = (aggregateId: string, version: number) => ({
  id: newKsuid(),
  type: 'Noted',
  schemaVersion: 1,
  aggregateType: 'Note',
  aggregateId,
  version,
  occurredAt: '2026-11-22T10:00:00.000Z',
  data: { n: version },
  metadata: {},
});

async function pushEvents(tenant: string, ...events: ReturnType<typeof event>[]) {
  const response = await app.request('/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant': tenant },
    body: JSON.stringify({
      clientId: 'c',
      commits: events.map((e) => ({ commitId: `commit-${e.id}`, events: [e] })),
    }),
  });
  expect(response.status).toBe(200);
}

/** Subscribes and collects messages until `until` says stop. */
async function subscribe(
  tenant: string,
  headers: Record<string, string> = {},
  query = '',
): Promise<{
  next(
    until: (messages: (SubscriptionMessage & { sseId?: string })[]) => boolean,
  ): Promise<(SubscriptionMessage & { sseId?: string })[]>;
  close(): void;
}> {
  const controller = new AbortController();
  const response = await app.request(`/v1/subscribe${query}`, {
    headers: { 'x-tenant': tenant, ...headers },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
  const seen: (SubscriptionMessage & { sseId?: string })[] = [];
  return {
    async next(until) {
      while (!until(seen)) {
        const { value, done } = await messages.next();
        if (done) throw new Error('stream ended');
        seen.push({
          ...SubscriptionMessageSchema.parse(JSON.parse(value.data)),
          ...(value.id ? { sseId: value.id } : {}),
        });
      }
      return seen;
    },
    close: () => {
      controller.abort();
      void messages.return(undefined);
    },
  };
}

const eventsOf = (messages: SubscriptionMessage[]) =>
  messages.flatMap((message) => (message.kind === 'event' ? [message.event.id] : []));

describe('GET /v1/subscribe', () => {
  it('catches up, says caught-up, then streams live events with their cursors as SSE ids', async () => {
    const early = [event('n1', 1), event('n2', 1)];
    await pushEvents('t-live', ...early);
    const subscription = await subscribe('t-live');
    const caughtUp = await subscription.next((seen) => seen.some((m) => m.kind === 'caught-up'));
    expect(eventsOf(caughtUp)).toEqual(early.map((e) => e.id));

    const late = [event('n1', 2), event('n3', 1)];
    await pushEvents('t-live', ...late);
    const all = await subscription.next((seen) => eventsOf(seen).length === 4);
    expect(eventsOf(all)).toEqual([...early, ...late].map((e) => e.id));
    for (const message of all) {
      if (message.kind === 'event') expect(message.sseId).toBe(message.cursor);
    }
    subscription.close();
  });

  it('resumes after Last-Event-ID without repeating or skipping', async () => {
    const events = [event('r1', 1), event('r2', 1), event('r1', 2)];
    await pushEvents('t-resume', ...events);
    const first = await subscribe('t-resume');
    const seen = await first.next((m) => eventsOf(m).length === 2);
    const lastId = seen.filter((m) => m.kind === 'event')[1]?.sseId as string;
    first.close();

    const resumed = await subscribe('t-resume', { 'last-event-id': lastId });
    const rest = await resumed.next((m) => m.some((x) => x.kind === 'caught-up'));
    expect(eventsOf(rest)).toEqual([events[2]?.id]);
    resumed.close();
  });

  it('sends heartbeats on idle connections', async () => {
    const subscription = await subscribe('t-idle');
    const messages = await subscription.next(
      (m) => m.filter((x) => x.kind === 'heartbeat').length >= 2,
    );
    expect(messages[0]?.kind).toBe('caught-up');
    subscription.close();
  });

  it('never streams another tenant’s events', async () => {
    const mine = await subscribe('t-mine');
    await mine.next((m) => m.some((x) => x.kind === 'caught-up'));
    await pushEvents('t-other', event('x', 1));
    const own = event('y', 1);
    await pushEvents('t-mine', own);
    const seen = await mine.next((m) => eventsOf(m).length >= 1);
    expect(eventsOf(seen)).toEqual([own.id]);
    mine.close();
  });

  it('answers an invalid cursor with a 400 problem', async () => {
    for (const headers of [{ 'last-event-id': 'junk' }, {}]) {
      const response = await app.request(
        `/v1/subscribe${'last-event-id' in headers ? '' : '?after=12'}`,
        {
          headers: { 'x-tenant': 'a', ...headers },
        },
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'INVALID_CURSOR' });
    }
  });
});
