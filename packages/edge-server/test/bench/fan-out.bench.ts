// SSE fan-out (issue 16): the delay from an append to its delivery at every subscriber, with 10,
// 100 and 1,000 subscribers of one tenant on one server instance, and the SQL statements each
// append costs the server, which must not grow with the subscribers: the instance has one reader
// (src/subscriptions/event-feed.ts) that reads each new event once and fans it out.
//
// The server is the real sync app in its own process (tooling/bench/sync-server.ts) on a durable
// Postgres cluster, through the Neon driver and the WebSocket proxy, which counts the statements
// that pass it (counting-ws-proxy.ts). Each subscriber is its own principal (the server allows
// 8 subscriptions per principal) holding `GET /v1/subscribe?from=now` open over its own HTTP
// connection. One operation: one client pushes one new todo (`POST /v2/push`), and the bench
// waits until every subscriber has received the event; each subscriber's delivery is one sample,
// timed from just before the push was sent, so a sample holds the push's own round trip too.
// Baseline: the same append with one subscriber (of another tenant).
//
// The subscribers are read in this process with node:http, looking for the event's id in the
// raw bytes (no SSE or JSON parsing): at 1,000 subscribers this process still handles 1,000
// chunks per append, so the latest samples include some of its own queueing, on a machine
// whose 2 cores it shares with the server and Postgres.
//
// Counts: after each side's runs, statements per append = statements through the proxy during
// the run / appends. They include the push itself and the reader's poll (every 1 s, whether or
// not anything was appended), so compare the sides, not the figure with zero.
import { request } from 'node:http';
import { newKsuid } from '@strata/core';
import { defineLatencyBenchmark, type LatencyBenchmark } from '@strata/tooling/bench/harness';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { bearerToken, pushNewTodo } from './http-bench-client.ts';

const COUNTS = [10, 100, 1_000] as const;
const APPENDS = 20;
const DELIVERY_TIMEOUT_MS = 15_000;

const server = await startBenchSyncServer({
  limits: { maxSubscriptions: Math.max(...COUNTS) + 50 },
});

/** One open subscription. */
interface Subscriber {
  close(): void;
}

/** The event an operation waits for, and who has it. */
interface Awaited {
  readonly id: Buffer;
  readonly startedAt: number;
  readonly received: Set<number>;
  readonly samplesMs: number[];
  readonly expected: number;
  readonly done: () => void;
}

/** A group of subscribers of one tenant, and the pushing client's token. */
interface Group {
  readonly tenant: string;
  readonly pushToken: string;
  readonly subscribers: Subscriber[];
  awaited: Awaited | undefined;
}

/** Opens `GET /v1/subscribe?from=now` for subscriber `index` of the group; resolves at the headers. */
function subscribe(group: Group, index: number, token: string): Promise<Subscriber> {
  const url = new URL('v1/subscribe?from=now', server.url);
  return new Promise((resolve, reject) => {
    let tail: Buffer = Buffer.alloc(0);
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`subscribe answered ${response.statusCode}`));
          response.resume();
          return;
        }
        response.on('data', (chunk: Buffer) => {
          const awaited = group.awaited;
          if (awaited === undefined || awaited.received.has(index)) return;
          // The id may straddle two chunks: keep the end of the previous one.
          const hay = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
          if (hay.includes(awaited.id)) {
            awaited.received.add(index);
            awaited.samplesMs.push(performance.now() - awaited.startedAt);
            tail = Buffer.alloc(0);
            if (awaited.received.size === awaited.expected) awaited.done();
          } else {
            tail = hay.subarray(Math.max(0, hay.length - awaited.id.length));
          }
        });
        response.on('error', () => undefined);
        resolve({ close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const groups = new Map<string, Group>();

/** Opens a group of `count` subscribers (20 at a time); closes every other group first. */
async function openGroup(key: string, count: number): Promise<Group> {
  const open = groups.get(key);
  if (open !== undefined) return open;
  const tenant = `fan-out-${key}-${Date.now().toString(36)}`;
  const group: Group = {
    tenant,
    pushToken: await bearerToken(server.jwtSecret, tenant, 'pusher'),
    subscribers: [],
    awaited: undefined,
  };
  for (let start = 0; start < count; start += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - start) }, async (_, offset) =>
        subscribe(
          group,
          start + offset,
          await bearerToken(server.jwtSecret, tenant, `subscriber-${start + offset}`),
        ),
      ),
    );
    group.subscribers.push(...batch);
  }
  groups.set(key, group);
  return group;
}

function closeGroupsBut(keys: readonly string[]): void {
  for (const [key, group] of groups) {
    if (keys.includes(key)) continue;
    for (const subscriber of group.subscribers) subscriber.close();
    groups.delete(key);
  }
}

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  closeGroupsBut([]);
  await server.stop();
}

/** Pushes one event and resolves with every subscriber's delivery delay. */
async function appendAndAwait(group: Group): Promise<{ samplesMs: readonly number[] }> {
  const expected = group.subscribers.length;
  const id = newKsuid();
  let done: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => {
    done = resolve;
  });
  const awaited: Awaited = {
    id: Buffer.from(id),
    startedAt: performance.now(),
    received: new Set(),
    samplesMs: [],
    expected,
    done: () => done(),
  };
  group.awaited = awaited;
  await pushNewTodo(server.url, group.pushToken, 'fan-out-bench', id);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `after ${DELIVERY_TIMEOUT_MS} ms only ${awaited.received.size} of ${expected} subscribers had the event`,
          ),
        ),
      DELIVERY_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([delivered, timedOut]);
  } finally {
    clearTimeout(timer);
    group.awaited = undefined;
  }
  return { samplesMs: awaited.samplesMs };
}

/** Statements per append of each side's last runs, for the notes. */
function statementCounter() {
  const perAppend: number[] = [];
  return {
    perAppend,
    setup: async () => ({ before: await server.statements() }),
    teardown: async ({ before }: { before: number }) => {
      perAppend.push((await server.statements()) - before);
    },
    mean: () => perAppend.reduce((sum, value) => sum + value, 0) / perAppend.length / APPENDS,
  };
}

function fanOut(count: number): LatencyBenchmark {
  const baselineKey = `one-for-${count}`;
  const subjectKey = `${count}`;
  const baselineStatements = statementCounter();
  const subjectStatements = statementCounter();
  const side = (key: string, subscribers: number, counter: typeof baselineStatements) => ({
    setup: async () => {
      closeGroupsBut([baselineKey, subjectKey]);
      const group = await openGroup(key, subscribers);
      return { group, ...(await counter.setup()) };
    },
    operation: ({ group }: { group: Group }) => appendAndAwait(group),
    teardown: (context: { before: number }) => counter.teardown(context),
  });
  return defineLatencyBenchmark({
    name: `SSE fan-out to ${count.toLocaleString('en-US')} subscribers of one tenant (${server.database}, durable)`,
    unit: 'appends (a sample per subscriber)',
    operations: APPENDS,
    runs: 3,
    baseline: {
      label: 'append, delivered to 1 subscriber',
      ...side(baselineKey, 1, baselineStatements),
    },
    subject: {
      label: `append, delivered to each of ${count.toLocaleString('en-US')} subscribers`,
      ...side(subjectKey, count, subjectStatements),
    },
    goal: count === 1_000 ? { maxP99Ms: 100 } : 'p99 <= 100 ms at 1,000 subscribers (issue 16)',
    notes: () => [
      `SQL statements per append (push and fan-out, counted at the server's proxy, warm-up included): ${baselineStatements.mean().toFixed(1)} with 1 subscriber, ${subjectStatements.mean().toFixed(1)} with ${count.toLocaleString('en-US')}`,
    ],
  });
}

export default COUNTS.map(fanOut);
