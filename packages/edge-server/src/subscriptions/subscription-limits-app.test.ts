/**
 * The subscription limits through the app (PGlite, `app.request`): the open-subscription cap per
 * principal answers 429 before a stream starts, and a subscriber that stops reading is ended
 * with a `closing` message it can resume from (issue 12).
 */
import type { PGlite } from '@electric-sql/pglite';
import {
  newKsuid,
  readServerSentEvents,
  SUBSCRIPTION_FEATURES_HEADER,
  type SubscriptionMessage,
  SubscriptionMessageSchema,
} from '@strata/core';
import { createMigratedPglite } from '@strata/tooling/pglite/test-pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { pgliteListen } from './listen-source.ts';

let pglite: PGlite;
let app: SyncApp;

beforeAll(async () => {
  pglite = await createMigratedPglite();
  app = createSyncApp({
    database: pgliteDatabase(pglite),
    authenticate: (request) => ({
      tenant: request.headers.get('x-tenant') ?? 'a',
      subject: request.headers.get('x-subject') ?? 'u1',
    }),
    listen: pgliteListen(pglite),
    limits: { maxSubscriptionBufferBytes: 4096, maxSubscriptionsPerPrincipal: 8 },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pglite?.close();
});

const noteEvent = (aggregateId: string, version: number, text = 'n') => ({
  id: newKsuid(),
  type: 'Noted',
  schemaVersion: 1,
  aggregateType: 'Note',
  aggregateId,
  version,
  occurredAt: '2026-12-01T10:00:00.000Z',
  data: { text },
  metadata: {},
});

async function push(tenant: string, events: ReturnType<typeof noteEvent>[]): Promise<void> {
  const response = await app.request('/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant': tenant },
    body: JSON.stringify({ clientId: 'c', commits: [{ commitId: newKsuid(), events }] }),
  });
  expect(response.status).toBe(200);
}

type Received = SubscriptionMessage & { sseId?: string };

async function subscribe(headers: Record<string, string>) {
  const response = await app.request('/v1/subscribe', { headers });
  const messages =
    response.body === null
      ? undefined
      : readServerSentEvents(response.body as ReadableStream<Uint8Array>);
  const seen: Received[] = [];
  return {
    response,
    seen,
    /** Reads until `until` holds; false if the stream ended first. */
    async read(until: (seen: Received[]) => boolean = () => false): Promise<boolean> {
      while (!until(seen)) {
        const next = await messages?.next();
        if (next === undefined || next.done) return false;
        seen.push({
          ...SubscriptionMessageSchema.parse(JSON.parse(next.value.data)),
          ...(next.value.id === undefined ? {} : { sseId: next.value.id }),
        });
      }
      return true;
    },
    close: async () => {
      await messages?.return(undefined); // cancels the body if reading had started
      await response.body?.cancel().catch(() => undefined); // and if not
    },
  };
}

const caughtUp = (seen: Received[]) => seen.some((message) => message.kind === 'caught-up');
const eventIds = (seen: Received[]) =>
  seen.flatMap((message) => (message.kind === 'event' ? [message.event.id] : []));

describe('open subscriptions per principal', () => {
  it('answers the 9th of one principal 429 with Retry-After; others are not affected; closing one frees a slot', async () => {
    const ada = { 'x-tenant': 'caps', 'x-subject': 'ada' };
    const open = [];
    for (let i = 0; i < 8; i++) {
      const subscription = await subscribe(ada);
      expect(subscription.response.status).toBe(200);
      open.push(subscription);
    }
    const ninth = await app.request('/v1/subscribe', { headers: ada });
    expect(ninth.status).toBe(429);
    expect(ninth.headers.get('content-type')).toContain('application/problem+json');
    expect(ninth.headers.get('retry-after')).toBe('5');
    expect(((await ninth.json()) as { code: string }).code).toBe('RATE_LIMITED');

    // Another subject of the same tenant, and the same subject name in another tenant.
    const grace = await subscribe({ 'x-tenant': 'caps', 'x-subject': 'grace' });
    const otherTenant = await subscribe({ 'x-tenant': 'caps-2', 'x-subject': 'ada' });
    expect(grace.response.status).toBe(200);
    expect(otherTenant.response.status).toBe(200);

    await open[0]?.close(); // the client leaves: its body is cancelled
    await new Promise((resolve) => setTimeout(resolve, 0));
    const again = await subscribe(ada);
    expect(again.response.status).toBe(200);
    expect(await again.read(caughtUp)).toBe(true); // a working stream, not just a status
    expect((await app.request('/v1/subscribe', { headers: ada })).status).toBe(429);

    for (const subscription of [...open.slice(1), grace, otherTenant, again]) {
      await subscription.close();
    }
  });
});

describe('a subscriber that stops reading', () => {
  it('is ended with a closing message naming the last cursor it got, and resumes from it exactly once', async () => {
    const tenant = { 'x-tenant': 'slow' };
    const first = [noteEvent('s-1', 1), noteEvent('s-1', 2)];
    await push('slow', first);
    const slow = await subscribe({ ...tenant, [SUBSCRIPTION_FEATURES_HEADER]: 'closing' });
    const old = await subscribe(tenant); // an older client: no features header
    const watcher = await subscribe(tenant); // keeps reading: tells when the feed delivered
    for (const subscription of [slow, old, watcher]) {
      expect(await subscription.read(caughtUp)).toBe(true);
    }
    expect(eventIds(slow.seen)).toEqual(first.map((event) => event.id));
    const resumeCursor = slow.seen.findLast((message) => message.sseId !== undefined)?.sseId;

    // 20 events of ~1 KB: far past the 4 KiB the slow ones may leave unread, while the watcher,
    // reading all along, takes them: a burst of 3 in one commit (within the cap), then one by one.
    const more = Array.from({ length: 20 }, (_, i) => noteEvent('s-2', i + 1, 'y'.repeat(900)));
    const lastId = more.at(-1)?.id as string;
    const watched = watcher.read((seen) => eventIds(seen).includes(lastId));
    await push('slow', more.slice(0, 3));
    for (const event of more.slice(3)) await push('slow', [event]);
    expect(await watched).toBe(true);
    expect(eventIds(watcher.seen)).toEqual([...first, ...more].map((event) => event.id));

    // What the slow readers find when they read again: no event past the cap, the end.
    expect(await slow.read()).toBe(false);
    expect(slow.seen.slice(first.length + 1)).toEqual([
      { kind: 'closing', reason: 'slow-reader', resumeAfter: resumeCursor },
    ]);
    expect(await old.read()).toBe(false);
    expect(old.seen.slice(first.length + 1)).toEqual([]);

    // Resuming from the last id each got: the rest, exactly once, in order.
    const resumed = await subscribe({ ...tenant, 'last-event-id': resumeCursor as string });
    expect(await resumed.read(caughtUp)).toBe(true);
    expect(eventIds(resumed.seen)).toEqual(more.map((event) => event.id));
    for (const subscription of [watcher, resumed]) await subscription.close();
  });
});
