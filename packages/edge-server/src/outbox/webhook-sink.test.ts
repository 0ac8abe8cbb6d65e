import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { createOutboxRelay } from './outbox-relay.ts';
import type { OutboxMessage } from './outbox-sink.ts';
import { outboxWriter } from './outbox-writer.ts';
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature.ts';
import { WebhookDeliveryError, webhookSink } from './webhook-sink.ts';

const secret = 'webhook-secret';

interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
  readonly verified: boolean;
}

// A receiver on a local port; `answer` decides each response.
let server: Server;
let url: string;
const received: Received[] = [];
let answer: (response: ServerResponse) => void = (response) => response.writeHead(204).end();

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      void (async () => {
        const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
        const verified = await verifyWebhookSignature({
          secret,
          body,
          header: typeof header === 'string' ? header : undefined,
        });
        received.push({ body, headers: request.headers, verified });
        answer(response);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/strata`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const message: OutboxMessage = {
  id: '17',
  destination: 'billing',
  tenant: 'acme',
  attempt: 2,
  event: {
    id: 'evt-1',
    type: 'OrderPlaced',
    schemaVersion: 1,
    aggregateType: 'Order',
    aggregateId: 'o-1',
    version: 1,
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    position: 1,
    cursor: 'c1',
    tenantPosition: 1,
    tenantCursor: 't1',
    tenant: 'acme',
    data: { total: 42 },
    metadata: {},
  },
};
const signal = () => new AbortController().signal;

describe('webhookSink', () => {
  it('POSTs the message as JSON, signed over timestamp and body', async () => {
    received.length = 0;
    const sink = webhookSink({ url, secret, headers: { 'x-api-key': 'k' } });
    await sink(message, { signal: signal() });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.verified).toBe(true);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      id: '17',
      destination: 'billing',
      tenant: 'acme',
      attempt: 2,
      event: message.event,
    });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'strata-message-id': '17',
      'x-api-key': 'k',
    });
    // Signed with another secret, the receiver would refuse it.
    const forged = await verifyWebhookSignature({
      secret: 'not-the-secret',
      body: request?.body ?? '',
      header: String(request?.headers[WEBHOOK_SIGNATURE_HEADER]),
    });
    expect(forged).toBe(false);
  });

  it('fails on a non-2xx answer, with the status and an excerpt', async () => {
    answer = (response) => response.writeHead(503).end('try later');
    try {
      const failure = webhookSink({ url, secret })(message, { signal: signal() });
      await expect(failure).rejects.toBeInstanceOf(WebhookDeliveryError);
      await expect(failure).rejects.toMatchObject({ status: 503, responseText: 'try later' });
      // A redirect is not followed (the signed body stays with its receiver): a failure too.
      answer = (response) => response.writeHead(302, { location: 'http://example.com/' }).end();
      await expect(webhookSink({ url, secret })(message, { signal: signal() })).rejects.toThrow(
        /302/,
      );
    } finally {
      answer = (response) => response.writeHead(204).end();
    }
  });

  it('fails when the receiver takes longer than its timeout, or the relay aborts', async () => {
    answer = () => undefined; // never answers
    try {
      const started = performance.now();
      await expect(
        webhookSink({ url, secret, timeoutMs: 100 })(message, { signal: signal() }),
      ).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(2_000);
      const controller = new AbortController();
      const pending = webhookSink({ url, secret })(message, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('lease ending')), 50);
      await expect(pending).rejects.toThrow('lease ending');
    } finally {
      answer = (response) => response.writeHead(204).end();
    }
  });

  it('fails when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      webhookSink({ url: `http://127.0.0.1:${port}/`, secret })(message, { signal: signal() }),
    ).rejects.toThrow();
  });
});

describe('a relay with a webhook sink (PGlite)', () => {
  const pglite = useMigratedPglite();

  it('delivers appended events to the receiver and retries a 500', async () => {
    received.length = 0;
    const db = pgliteDatabase(pglite());
    const store = createPostgresEventStore(db, {
      tenant: 'acme',
      appendHooks: [outboxWriter([{ destination: 'billing', accepts: ['OrderPlaced'] }])],
    });
    const { events } = await appendEvents(store, { aggregateType: 'Order', aggregateId: 'o-9' }, [
      'OrderPlaced',
    ]);
    let failNext = true;
    answer = (response) => {
      response.writeHead(failNext ? 500 : 200).end();
      failNext = false;
    };
    try {
      const relay = createOutboxRelay({
        database: db,
        sinks: { billing: webhookSink({ url, secret }) },
        backoff: { initialDelayMs: 0 },
        onError: () => undefined,
      });
      expect(await relay.runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
      expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    } finally {
      answer = (response) => response.writeHead(204).end();
    }
    expect(received.map((request) => request.verified)).toEqual([true, true]);
    const bodies = received.map((request) => JSON.parse(request.body));
    expect(bodies.map((body) => [body.attempt, body.event])).toEqual([
      [1, events[0]],
      [2, events[0]],
    ]);
    expect(bodies[0].id).toBe(bodies[1].id);
  });
});
