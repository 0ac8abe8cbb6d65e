import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from './fault-proxy.ts';
import { startFaultProxy } from './fault-proxy.ts';

/**
 * A stand-in for the sync server: it counts how often it saw each request id (the thing the
 * proxy's faults are meant to disturb) and serves an SSE stream that never ends on its own.
 */
interface Target {
  readonly url: string;
  /** How many times each push id arrived. */
  readonly received: Map<string, number>;
  /** Every request, in arrival order. */
  readonly log: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /** SSE streams currently open on the server side. */
  readonly openStreams: number;
  close(): Promise<void>;
}

async function startTarget(name: string): Promise<Target> {
  const received = new Map<string, number>();
  const log: Target['log'] = [];
  const state = { openStreams: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const path = new URL(req.url ?? '/', 'http://target').pathname;
    if (req.method === 'POST' && path === '/v1/push') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
        const count = (received.get(body.id) ?? 0) + 1;
        received.set(body.id, count);
        res.writeHead(201, 'Pushed', { 'content-type': 'application/json', 'x-target': name });
        res.end(JSON.stringify({ target: name, id: body.id, count, url: req.url }));
      });
      return;
    }
    if (req.method === 'GET' && path === '/v1/subscribe') {
      state.openStreams++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => {
        n++;
        res.write(`id: ${n}\ndata: ${JSON.stringify({ n, target: name })}\n\n`);
      }, 10);
      res.on('close', () => {
        clearInterval(timer);
        state.openStreams--;
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    log,
    get openStreams() {
      return state.openStreams;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bind one, then let it go. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(condition: () => boolean, timeoutMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const push = (base: string, id: string, query = '') =>
  fetch(`${base}/v1/push${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client': 'test' },
    body: JSON.stringify({ id }),
  });

/** Reads an SSE body until it ends or fails; `onText` sees the text received so far. */
async function readStream(
  response: Response,
  onText: (text: string) => void = () => {},
): Promise<{ text: string; failed: boolean }> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error('no body');
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, failed: false };
      text += value;
      onText(text);
    }
  } catch {
    return { text, failed: true };
  }
}

const eventCount = (text: string) => text.match(/^id: /gm)?.length ?? 0;

describe('fault proxy', () => {
  let target: Target;
  let other: Target;
  let proxy: FaultProxy;

  beforeAll(async () => {
    [target, other] = await Promise.all([startTarget('a'), startTarget('b')]);
  });
  afterAll(async () => {
    await Promise.all([target.close(), other.close()]);
  });
  beforeEach(async () => {
    target.received.clear();
    target.log.length = 0;
    proxy = await startFaultProxy({ target: target.url, seed: 1 });
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('forwards method, path, query, headers and body, and returns status, headers and body as is', async () => {
    const response = await push(proxy.url, 'p1', '?since=3&x=y');

    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Pushed');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-target')).toBe('a');
    expect(await response.json()).toEqual({
      target: 'a',
      id: 'p1',
      count: 1,
      url: '/v1/push?since=3&x=y',
    });
    const [seen] = target.log;
    expect(seen?.method).toBe('POST');
    expect(seen?.headers['x-client']).toBe('test');
    expect(seen?.headers.host).toBe(new URL(target.url).host);
    expect(proxy.stats).toMatchObject({ requests: 1, upstreamErrors: 0 });
  });

  it('dropRequest=1: the client gets a network error and the server sees nothing', async () => {
    proxy.setPlan({ dropRequest: 1 });

    await expect(push(proxy.url, 'p2')).rejects.toThrow(TypeError);

    expect(target.log).toHaveLength(0);
    expect(proxy.stats.droppedRequests).toBe(1);
  });

  it('dropResponse=1: the client gets a network error although the server handled it once', async () => {
    proxy.setPlan({ dropResponse: 1 });

    await expect(push(proxy.url, 'p3')).rejects.toThrow(TypeError);

    expect(target.received.get('p3')).toBe(1);
    expect(proxy.stats.droppedResponses).toBe(1);
  });

  it('duplicateRequest=1: the server sees it twice and the client gets the second answer', async () => {
    proxy.setPlan({ duplicateRequest: 1 });

    const response = await push(proxy.url, 'p4');

    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ id: 'p4', count: 2 });
    expect(target.received.get('p4')).toBe(2);
    expect(proxy.stats.duplicated).toBe(1);
  });

  it('streams SSE chunk by chunk, and cutAll() ends an open stream and its upstream', async () => {
    const response = await fetch(`${proxy.url}/v1/subscribe`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');

    // Cutting as soon as two events are in proves they were relayed while the stream was open.
    const result = await readStream(response, (text) => {
      if (eventCount(text) === 2) proxy.cutAll();
    });

    expect(result.failed).toBe(true);
    expect(eventCount(result.text)).toBeGreaterThanOrEqual(2);
    expect(result.text).toMatch(/^id: 1\ndata: \{"n":1,"target":"a"\}\n\n/);
    await until(() => target.openStreams === 0);
    // cutAll is not a plan fault and leaves the proxy serving.
    expect(proxy.stats.cutStreams).toBe(0);
    expect((await push(proxy.url, 'after-cut')).status).toBe(201);
  });

  it('cutStreamsAfterMs cuts an SSE stream after some events and aborts the upstream', async () => {
    proxy.setPlan({ cutStreamsAfterMs: [50, 50] });
    const started = Date.now();

    const response = await fetch(`${proxy.url}/v1/subscribe`);
    const result = await readStream(response);

    expect(result.failed).toBe(true);
    expect(eventCount(result.text)).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(proxy.stats.cutStreams).toBe(1);
    await until(() => target.openStreams === 0);
  });

  it('dropResponse on SSE hangs up before the first byte', async () => {
    proxy.setPlan({ dropResponse: 1 });

    await expect(fetch(`${proxy.url}/v1/subscribe`)).rejects.toThrow(TypeError);

    expect(proxy.stats.droppedResponses).toBe(1);
    await until(() => target.openStreams === 0);
  });

  it('setTarget switches the upstream for new requests', async () => {
    proxy.setTarget(other.url);

    const response = await push(proxy.url, 'p5');

    expect(await response.json()).toMatchObject({ target: 'b', id: 'p5' });
    expect(target.log).toHaveLength(0);
  });

  it('answers 502 problem+json for an unreachable upstream and keeps serving', async () => {
    proxy.setTarget(`http://127.0.0.1:${await deadPort()}`);

    const response = await push(proxy.url, 'p6');

    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({
      type: 'about:blank',
      title: 'Bad Gateway',
      status: 502,
      code: 'INTERNAL',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    expect(proxy.stats.upstreamErrors).toBe(1);

    proxy.setTarget(target.url);
    expect((await push(proxy.url, 'p6')).status).toBe(201);
    expect(target.received.get('p6')).toBe(1);
  });

  it('hangs up on the client when the upstream dies mid-stream, and keeps serving', async () => {
    const doomed = await startTarget('doomed');
    proxy.setTarget(doomed.url);
    const response = await fetch(`${proxy.url}/v1/subscribe`);

    const result = await readStream(response, (text) => {
      if (eventCount(text) === 1) void doomed.close();
    });

    expect(result.failed).toBe(true);
    expect(proxy.stats.upstreamErrors).toBe(1);
    proxy.setTarget(target.url);
    expect((await push(proxy.url, 'after-restart')).status).toBe(201);
  });

  it('maxDelayMs delays without changing the answer', async () => {
    proxy.setPlan({ maxDelayMs: 20 });

    const responses = await Promise.all(['d1', 'd2', 'd3'].map((id) => push(proxy.url, id)));

    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    expect([...target.received.values()]).toEqual([1, 1, 1]);
  });

  it('replays the same faults for the same seed', async () => {
    const outcomes = async (seed: number) => {
      const seeded = await startFaultProxy({
        target: target.url,
        seed,
        plan: { dropRequest: 0.5 },
      });
      const results: string[] = [];
      try {
        for (let i = 0; i < 8; i++) {
          results.push(
            await push(seeded.url, `seed-${seed}-${i}`).then(
              (r) => String(r.status),
              () => 'dropped',
            ),
          );
        }
      } finally {
        await seeded.close();
      }
      expect(seeded.seed).toBe(seed);
      return results;
    };

    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    expect(first).toContain('dropped');
    expect(first).toContain('201');
  });

  it('rejects plans that are not probabilities or ranges', () => {
    expect(() => proxy.setPlan({ dropRequest: 2 })).toThrow(RangeError);
    expect(() => proxy.setPlan({ cutStreamsAfterMs: [50, 10] })).toThrow(RangeError);
    expect(() => proxy.setTarget('https://example.com')).toThrow(TypeError);
  });
});
