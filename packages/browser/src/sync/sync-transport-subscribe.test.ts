import { SUBSCRIPTION_FEATURES_HEADER, type SubscriptionMessage } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createSyncTransport } from './sync-transport.ts';

const encoder = new TextEncoder();

/** An SSE body with these messages; it stays open afterwards unless `end`. */
function sseBody(messages: readonly string[], end = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const message of messages) controller.enqueue(encoder.encode(message));
      if (end) controller.close();
    },
  });
}

const event = {
  id: '2Yb7u5nN1cZ8qJ3kTqk5m0fX4aB',
  type: 'Noted',
  schemaVersion: 1,
  aggregateType: 'Note',
  aggregateId: 'n-1',
  version: 1,
  occurredAt: '2026-12-01T10:00:00.000Z',
  data: {},
  metadata: {},
  position: 1,
  recordedAt: '2026-12-01T10:00:00.000Z',
};

async function collect(body: ReadableStream<Uint8Array>) {
  const requests: Request[] = [];
  const transport = createSyncTransport({
    url: 'http://sync.test/',
    fetch: async (input, init) => {
      requests.push(new Request(input, init));
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    },
  });
  const messages: SubscriptionMessage[] = [];
  for await (const message of transport.subscribe('t1', new AbortController().signal)) {
    messages.push(message);
  }
  return { messages, request: requests[0] as Request };
}

describe('sync transport subscriptions', () => {
  it('asks for closing messages, and stops at one at once (the stream need not end)', async () => {
    const closing = { kind: 'closing', reason: 'slow-reader', resumeAfter: 't2' };
    const { messages, request } = await collect(
      sseBody([
        `data: ${JSON.stringify({ kind: 'event', cursor: 't2', event })}\nid: t2\n\n`,
        `data: ${JSON.stringify(closing)}\n\n`,
      ]),
    );
    expect(request.headers.get(SUBSCRIPTION_FEATURES_HEADER)).toBe('closing');
    expect(request.headers.get('last-event-id')).toBe('t1');
    expect(messages.map((message) => message.kind)).toEqual(['event', 'closing']);
    expect(messages[1]).toEqual(closing);
  });

  it('skips kinds it does not know (a newer server), but not a known kind that is malformed', async () => {
    const { messages } = await collect(
      sseBody(
        [
          'data: {"kind":"resharding","at":"t9"}\n\n',
          'data: {"kind":"caught-up","cursor":"t1"}\n\n',
        ],
        true,
      ),
    );
    expect(messages).toEqual([{ kind: 'caught-up', cursor: 't1' }]);
    await expect(collect(sseBody(['data: {"kind":"closing"}\n\n'], true))).rejects.toThrow(
      'unexpected subscription message',
    );
    await expect(collect(sseBody(['data: not json\n\n'], true))).rejects.toThrow(
      'unexpected subscription message',
    );
  });
});

describe('sync transport scoped subscriptions', () => {
  const subscribeWith = async (scopes: readonly string[]) => {
    const requests: Request[] = [];
    const transport = createSyncTransport({
      url: 'http://sync.test/',
      fetch: async (input, init) => {
        requests.push(new Request(input, init));
        return new Response(sseBody([], true), {
          headers: { 'content-type': 'text/event-stream' },
        });
      },
    });
    for await (const _ of transport.subscribeScopes(scopes, 's4.4', new AbortController().signal)) {
      // the stream ends at once
    }
    return requests[0] as Request;
  };
  const projectKey = (id: string) => `project:${JSON.stringify({ projectId: id })}`;

  it('names a short scope set in the URL (GET)', async () => {
    const request = await subscribeWith([projectKey('p1'), projectKey('p2')]);
    expect(request.method).toBe('GET');
    const url = new URL(request.url);
    expect(url.pathname).toBe('/v2/subscribe');
    expect(url.searchParams.getAll('scope')).toEqual([projectKey('p1'), projectKey('p2')]);
    expect(url.searchParams.get('after')).toBe('s4.4');
  });

  it('sends a set of long keys in a POST body, never a URL servers refuse', async () => {
    const scopes = Array.from({ length: 60 }, (_, n) => projectKey(`${n}-${'x'.repeat(300)}`));
    const request = await subscribeWith(scopes);
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe('/v2/subscribe');
    expect(new URL(request.url).search).toBe('');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(await request.json()).toEqual({ scopes, after: 's4.4' });
  });
});
