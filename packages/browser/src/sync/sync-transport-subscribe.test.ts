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
