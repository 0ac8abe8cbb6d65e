import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does wrong, and how often. Sync tests use it to provoke the failures a real
 * network produces (lost requests, lost acknowledgements, retransmissions, slow links, dropped
 * streams) so they can prove no event is lost or applied twice. Every field is optional: `{}` is
 * a transparent proxy.
 */
export interface FaultPlan {
  /** Probability (0..1) a request is dropped before reaching the server: the client's socket is destroyed (client sees a network error). */
  dropRequest?: number;
  /** Probability the request reaches the server, the server answers, but the response is dropped (socket destroyed before any byte is sent to the client). This is the "lost acknowledgement" case. */
  dropResponse?: number;
  /** Probability the request is sent to the server twice (the duplicate is sent first or concurrently; the client gets the response of the second one). Bodies must be buffered so they can be replayed. */
  duplicateRequest?: number;
  /** Max random delay in ms added before forwarding a request and before returning a response (uniform 0..max). */
  maxDelayMs?: number;
  /** For streaming responses with content-type text/event-stream: cut (destroy) the client connection after a random time uniform in [min,max] ms. */
  cutStreamsAfterMs?: readonly [number, number];
}

/**
 * A running fault-injecting reverse proxy. Point clients at `url` instead of the server; the
 * server never knows the proxy is there.
 */
export interface FaultProxy {
  /** Where clients connect, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The PRNG seed in use, so a failing run can be replayed with `startFaultProxy({ seed })`. */
  readonly seed: number;
  /** Takes effect for new requests; requests in flight keep the plan they started with. `{}` = transparent. */
  setPlan(plan: FaultPlan): void;
  /** Switches upstream (e.g. server restarted on another port); requests in flight keep their target. */
  setTarget(url: string): void;
  /** Counters of what was injected, for test assertions/logging. */
  readonly stats: {
    requests: number;
    droppedRequests: number;
    droppedResponses: number;
    duplicated: number;
    cutStreams: number;
    upstreamErrors: number;
  };
  /** Destroys all open client and upstream connections (e.g. to simulate a server restart) without closing the proxy. */
  cutAll(): void;
  /** Stops listening and destroys every open connection; resolves once the server is closed. */
  close(): Promise<void>;
}

/**
 * Starts a fault-injecting HTTP/1.1 reverse proxy on `host` (default 127.0.0.1), port 0.
 *
 * Random decisions come from a mulberry32 PRNG seeded with `seed` (default `Date.now()`), and
 * every request draws the same number of values in arrival order, so a sequential test replays
 * exactly given the same seed and plans.
 *
 * An unreachable upstream (ECONNREFUSED, reset before the response head, …) is answered with a
 * 502 `application/problem+json` body rather than a destroyed socket: clients then see an HTTP
 * error they would also get from a real gateway, which keeps "the proxy failed on purpose"
 * (network error) distinguishable from "the server is down" (502). If the upstream dies after
 * the response head was sent, the client socket is destroyed instead, since the status can no
 * longer change. Both count in `stats.upstreamErrors`.
 */
export function startFaultProxy(options: {
  target: string;
  plan?: FaultPlan;
  seed?: number;
  host?: string;
}): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? Date.now();
  const random = mulberry32(seed);
  let plan = checkPlan(options.plan ?? {});
  let target = checkTarget(options.target);

  const stats = {
    requests: 0,
    droppedRequests: 0,
    droppedResponses: 0,
    duplicated: 0,
    cutStreams: 0,
    upstreamErrors: 0,
  };
  const exchanges = new Set<Exchange>();
  const clientSockets = new Set<Socket>();
  const upstreamSockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const exchange = new Exchange(req, res);
    exchanges.add(exchange);
    // 'close' also fires after a normal end; only an unfinished response means the client left.
    res.on('close', () => {
      if (!res.writableFinished) exchange.kill();
      exchange.settle();
      exchanges.delete(exchange);
    });
    void handle(exchange).catch(() => exchange.kill());
  });
  server.on('connection', (socket: Socket) => {
    clientSockets.add(socket);
    socket.on('close', () => clientSockets.delete(socket));
    socket.on('error', ignore);
  });
  // Without a listener Node writes a 400 on malformed input; a fault proxy just hangs up.
  server.on('clientError', (_error, socket) => socket.destroy());

  /**
   * Sends one copy of the request upstream. Resolves on the response head; rejects on any error
   * before it, unless the exchange was killed on purpose (then it never settles, which is fine:
   * every caller stops at `killed` anyway).
   */
  const forward = (
    exchange: Exchange,
    to: URL,
    headers: OutgoingHttpHeaders,
    body: Buffer,
  ): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const upstream = httpRequest({
        protocol: to.protocol,
        hostname: to.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: to.port || 80,
        method: exchange.req.method ?? 'GET',
        path: joinPath(to, exchange.req.url ?? '/'),
        headers,
        // A fresh connection per request: nothing pooled outlives cutAll(), and a restarted
        // upstream is never reached through a stale keep-alive socket.
        agent: false,
      });
      exchange.upstreams.add(upstream);
      upstream.on('socket', (socket: Socket) => {
        upstreamSockets.add(socket);
        socket.on('close', () => upstreamSockets.delete(socket));
        socket.on('error', ignore);
      });
      upstream.on('close', () => exchange.upstreams.delete(upstream));
      upstream.on('error', (error) => {
        if (!exchange.killed) reject(error);
      });
      upstream.on('response', (response) => {
        response.on('error', ignore);
        resolve(response);
      });
      upstream.end(body);
    });

  const handle = async (exchange: Exchange): Promise<void> => {
    const { req, res } = exchange;
    req.on('error', ignore);
    res.on('error', ignore);
    stats.requests++;
    // Snapshot so setPlan/setTarget mid-request cannot mix two plans in one exchange.
    const fate = decide(plan, random);
    const to = target;

    if (fate.dropRequest) {
      stats.droppedRequests++;
      exchange.kill();
      return;
    }

    let body: Buffer;
    try {
      body = await readAll(req);
    } catch {
      exchange.kill();
      return;
    }
    await exchange.wait(fate.delayInMs);
    if (exchange.killed) return;

    const headers = requestHeaders(req.headers, body.length);
    let response: IncomingMessage;
    try {
      if (fate.duplicate) {
        stats.duplicated++;
        // Sent first and awaited, so by the time the client hears back the server has surely
        // handled both copies: the test can assert "seen twice" without polling.
        const first = await forward(exchange, to, headers, body).catch(() => undefined);
        if (exchange.killed) return;
        if (first !== undefined) {
          // A duplicated subscription is hung up at once; keeping it would leak an open stream.
          if (isEventStream(first)) first.destroy();
          else await drain(first);
        }
        if (exchange.killed) return;
      }
      response = await forward(exchange, to, headers, body);
    } catch (error) {
      if (exchange.killed) return;
      stats.upstreamErrors++;
      badGateway(exchange, to, error);
      return;
    }
    if (exchange.killed) return;

    const streaming = isEventStream(response);
    if (fate.dropResponse) {
      stats.droppedResponses++;
      // Let the server finish answering first: the point is a lost acknowledgement of work that
      // was done, not a request cut half way.
      if (!streaming) await drain(response);
      exchange.kill();
      return;
    }
    if (streaming) await relayStream(exchange, response, fate);
    else await relayBuffered(exchange, response, fate);
  };

  const relayStream = async (
    exchange: Exchange,
    response: IncomingMessage,
    fate: Fate,
  ): Promise<void> => {
    const { res } = exchange;
    const upstreamDied = () => {
      if (exchange.killed || response.complete) return;
      stats.upstreamErrors++;
      exchange.kill();
    };
    // Attached before the delay so an upstream that dies meanwhile is not missed.
    response.on('close', upstreamDied);
    if (response.destroyed) upstreamDied();
    await exchange.wait(fate.delayOutMs);
    if (exchange.killed) return;

    res.writeHead(response.statusCode ?? 502, response.statusMessage, responseHeaders(response));
    // Events must reach the client as they happen, so the head goes out before any event does.
    res.flushHeaders();
    if (fate.cutAfterMs !== undefined) {
      exchange.schedule(fate.cutAfterMs, () => {
        stats.cutStreams++;
        exchange.kill();
      });
    }
    // Chunk by chunk rather than buffered; pausing on backpressure keeps a slow client from
    // growing the proxy's memory without bound.
    response.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) response.pause();
    });
    res.on('drain', () => response.resume());
    response.on('end', () => res.end());
  };

  const relayBuffered = async (
    exchange: Exchange,
    response: IncomingMessage,
    fate: Fate,
  ): Promise<void> => {
    const { req, res } = exchange;
    let body: Buffer;
    try {
      body = await readAll(response);
    } catch {
      if (exchange.killed) return;
      // The head was not sent yet, but the status we would send is a lie now; hang up instead.
      stats.upstreamErrors++;
      exchange.kill();
      return;
    }
    await exchange.wait(fate.delayOutMs);
    if (exchange.killed) return;

    const status = response.statusCode ?? 502;
    const headers = responseHeaders(response);
    const bodiless = req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    // A bodiless answer's content-length describes the resource, not these (zero) bytes.
    if (bodiless && response.headers['content-length'] !== undefined) {
      headers['content-length'] = response.headers['content-length'];
    } else if (!bodiless) {
      headers['content-length'] = body.length;
    }
    res.writeHead(status, response.statusMessage, headers);
    res.end(bodiless ? undefined : body);
  };

  const badGateway = (exchange: Exchange, to: URL, error: unknown): void => {
    const { res } = exchange;
    if (res.headersSent || res.destroyed) {
      exchange.kill();
      return;
    }
    const reason =
      error instanceof Error
        ? ((error as NodeJS.ErrnoException).code ?? error.message)
        : String(error);
    const body = JSON.stringify({
      type: 'about:blank',
      title: 'Bad Gateway',
      status: 502,
      code: 'INTERNAL',
      detail: `fault-proxy could not reach ${to.origin}: ${reason}`,
    });
    res.writeHead(502, {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const cutAll = (): void => {
    // Killing exchanges first marks them, so the errors their upstreams raise next are not
    // mistaken for upstream failures.
    for (const exchange of exchanges) exchange.kill();
    for (const socket of clientSockets) socket.destroy();
    for (const socket of upstreamSockets) socket.destroy();
  };

  let closing: Promise<void> | undefined;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      server.on('error', ignore);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${port}`,
        seed,
        stats,
        setPlan: (next) => {
          plan = checkPlan(next);
        },
        setTarget: (url) => {
          target = checkTarget(url);
        },
        cutAll,
        close: () => {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            cutAll();
          });
          return closing;
        },
      });
    });
  });
}

/** The fate of one request, decided on arrival. */
interface Fate {
  dropRequest: boolean;
  dropResponse: boolean;
  duplicate: boolean;
  delayInMs: number;
  delayOutMs: number;
  cutAfterMs: number | undefined;
}

function decide(plan: FaultPlan, random: () => number): Fate {
  // Always six draws, whatever the plan, so request n's fate depends only on seed, n and plan.
  const [a, b, c, d, e, f] = [random(), random(), random(), random(), random(), random()];
  const maxDelay = plan.maxDelayMs ?? 0;
  const cut = plan.cutStreamsAfterMs;
  return {
    dropRequest: a < (plan.dropRequest ?? 0),
    dropResponse: b < (plan.dropResponse ?? 0),
    duplicate: c < (plan.duplicateRequest ?? 0),
    delayInMs: Math.round(d * maxDelay),
    delayOutMs: Math.round(e * maxDelay),
    cutAfterMs: cut === undefined ? undefined : cut[0] + f * (cut[1] - cut[0]),
  };
}

/** One client request and everything started on its behalf, so it can be torn down as a unit. */
class Exchange {
  killed = false;
  readonly upstreams = new Set<ClientRequest>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  /** Resolves after `ms`, or at once when killed, so no handler is left suspended forever. */
  wait(ms: number): Promise<void> {
    if (ms <= 0 || this.killed) return Promise.resolve();
    return new Promise((resolve) => this.schedule(ms, resolve, resolve));
  }

  schedule(ms: number, run: () => void, onCancel: () => void = ignore): void {
    if (this.killed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.set(timer, onCancel);
  }

  /** Clears timers; the exchange is over either way. */
  settle(): void {
    for (const [timer, cancel] of this.timers) {
      clearTimeout(timer);
      cancel();
    }
    this.timers.clear();
  }

  /** Hangs up on the client and aborts every upstream request; idempotent. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.settle();
    for (const upstream of this.upstreams) upstream.destroy();
    this.upstreams.clear();
    this.req.socket.destroy();
  }
}

/** Small, fast and good enough for fault dice; chosen for reproducibility, not quality. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Hop-by-hop headers describe one connection, not the message; length is recomputed because
// the proxy re-frames bodies.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

function copyHeaders(source: IncomingHttpHeaders): OutgoingHttpHeaders {
  // Headers named in `Connection:` are hop-by-hop too (RFC 9110 §7.6.1).
  const named = new Set(
    String(source.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}

function requestHeaders(source: IncomingHttpHeaders, bodyLength: number): OutgoingHttpHeaders {
  const headers = copyHeaders(source);
  // Host is left out so Node derives it from the target; a body-less GET gets no length at all.
  const hadBody =
    source['content-length'] !== undefined || source['transfer-encoding'] !== undefined;
  if (hadBody || bodyLength > 0) headers['content-length'] = bodyLength;
  return headers;
}

function responseHeaders(response: IncomingMessage): OutgoingHttpHeaders {
  return copyHeaders(response.headers);
}

function isEventStream(response: IncomingMessage): boolean {
  return String(response.headers['content-type'] ?? '')
    .toLowerCase()
    .includes('text/event-stream');
}

function joinPath(target: URL, requestPath: string): string {
  // A target with a base path (http://host/api) prefixes it, like most reverse proxies do.
  const base = target.pathname.replace(/\/+$/, '');
  return `${base}${requestPath.startsWith('/') ? '' : '/'}${requestPath}`;
}

/** Reads a whole message body; rejects if the peer goes away before the end. */
function readAll(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
    message.on('close', () => {
      if (!message.complete) reject(new Error('message aborted'));
    });
  });
}

/** Discards a body, settling however it ends. */
function drain(message: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    message.on('end', resolve);
    message.on('close', resolve);
    message.resume();
  });
}

function checkPlan(plan: FaultPlan): FaultPlan {
  for (const key of ['dropRequest', 'dropResponse', 'duplicateRequest'] as const) {
    const p = plan[key];
    if (p !== undefined && !(p >= 0 && p <= 1)) {
      throw new RangeError(`FaultPlan.${key} must be a probability in [0, 1], got ${p}`);
    }
  }
  const delay = plan.maxDelayMs;
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
    throw new RangeError(`FaultPlan.maxDelayMs must be a finite number >= 0, got ${delay}`);
  }
  const cut = plan.cutStreamsAfterMs;
  if (cut !== undefined) {
    const [min, max] = cut;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && min <= max)) {
      throw new RangeError(`FaultPlan.cutStreamsAfterMs must be [min, max] with 0 <= min <= max`);
    }
  }
  // A copy, so a caller mutating its object later cannot change requests behind setPlan's back.
  return { ...plan };
}

function checkTarget(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') {
    throw new TypeError(`fault-proxy only forwards to http:// targets, got ${url}`);
  }
  return parsed;
}

function ignore(): void {}
