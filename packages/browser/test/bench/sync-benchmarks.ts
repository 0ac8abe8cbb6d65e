/**
 * The sync client benchmarks, shared by sync.bench.ts (Node, fake-indexeddb) and
 * sync.browser.bench.ts (Chromium): the same workloads, told where they run and which server
 * to talk to. No Node built-ins: this runs in pages too.
 */
import type { ScopeRef } from '@strata/core';
import { Todo } from '@strata/example-todo';
import type { Benchmark, Workload } from '@strata/tooling/bench/harness';
import { createStrata, type Strata } from '../../src/runtime/create-strata.ts';
import { type SyncClient, type SyncOptions, startSync } from '../../src/sync/start-sync.ts';
import { syncedRows } from '../fixtures/synced-rows.ts';
import { deleteDatabase } from './raw-indexeddb.ts';
import {
  BASELINE_MAX_COMMITS_PER_PUSH,
  baselinePushes,
  bearerToken,
  check,
  clientPushes,
  commandPushWithFetch,
  countingFetch,
  freshTenant,
  PULL_LIMIT,
  pullWithFetch,
  pushBatches,
  pushWithFetch,
  seedPendingCommands,
  type TodoCommand,
  todoCommands,
} from './sync-bench.ts';

/** Where the benchmarks run and what they talk to. */
export interface SyncBenchTarget {
  /** The sync server's base URL. */
  readonly url: string;
  /** The HS256 secret the server verifies tokens with (fresh tenants get fresh tokens). */
  readonly jwtSecret: string;
  /** Printed in the names, e.g. `Node, fake-indexeddb; server: Postgres 15 via the Neon driver`. */
  readonly where: string;
  /** `null` in Node (no Web Locks there); left out in a page, where `navigator.locks` is used. */
  readonly locks?: null;
}

let databases = 0;
const freshName = (prefix: string) => `${prefix}-${Date.now()}-${databases++}`;

function syncOptions(target: SyncBenchTarget, token: string): SyncOptions {
  return {
    url: target.url,
    aggregates: [Todo],
    token: () => token,
    ...(target.locks === null ? { locks: null } : {}),
  };
}

async function closeAndDelete(strata: Strata): Promise<void> {
  const name = strata.db.name;
  strata.close();
  await deleteDatabase(name);
}

// --- 1. an offline client's pending commands go up -----------------------------------------------

interface PushBaseline {
  readonly token: string;
  readonly clientId: string;
  readonly batches: TodoCommand[][];
}

interface PushSubject {
  readonly token: string;
  readonly strata: Strata;
  readonly counter: ReturnType<typeof countingFetch>;
  sync?: SyncClient;
}

/**
 * An offline client with `events` pending events (100 todos, one event per command, in the order
 * a user would have made them) starts syncing with an empty tenant: time until the server has
 * acknowledged them all (`whenSynced`: nothing pending, upstream caught up). Baseline: the same
 * number of events pushed with plain `fetch` in the batches the client makes.
 */
export function pushBenchmark(
  target: SyncBenchTarget,
  options: { readonly events: number; readonly runs: number },
): Benchmark {
  const todos = 100;
  check(options.events % todos === 0, `events must be a multiple of ${todos}`);
  const perTodo = options.events / todos;
  const expectedPushes = baselinePushes(options.events);
  return {
    name: `sync push: offline client with ${options.events.toLocaleString('en-US')} pending events until all are acknowledged (${target.where})`,
    unit: 'events',
    units: options.events,
    runs: options.runs,
    warmupRuns: 0,
    // Issue 16's goal is for 10k pending commands; other sizes only report.
    ...(options.events === 10_000 ? { goal: [{ maxMedianMs: 3000 }, { minRatio: 0.8 }] } : {}),
    baseline: {
      label: `plain fetch: POST /v1/push x${expectedPushes} (${BASELINE_MAX_COMMITS_PER_PUSH} commits each)`,
      setup: async (): Promise<PushBaseline> => {
        const clientId = `bench-${freshTenant('client')}`;
        const commands = todoCommands(todos, perTodo, clientId);
        const token = await bearerToken(target.jwtSecret, freshTenant('push-baseline'));
        return { token, clientId, batches: pushBatches(commands) };
      },
      run: async ({ token, clientId, batches }: PushBaseline) => {
        const pushes = await pushWithFetch(target.url, token, clientId, batches);
        check(pushes === expectedPushes, `baseline made ${pushes} pushes`);
      },
    },
    // The client's own protocol, same server work as the subject: the gap to it is the client's.
    extraBaselines: [
      {
        label: `plain fetch: POST /v2/push x${expectedPushes} (${BASELINE_MAX_COMMITS_PER_PUSH} commands each)`,
        setup: async (): Promise<PushBaseline> => {
          const clientId = `bench-${freshTenant('client')}`;
          const commands = todoCommands(todos, perTodo, clientId);
          const token = await bearerToken(target.jwtSecret, freshTenant('push-v2-baseline'));
          return { token, clientId, batches: pushBatches(commands) };
        },
        run: async ({ token, clientId, batches }: PushBaseline) => {
          const pushes = await commandPushWithFetch(target.url, token, clientId, batches);
          check(pushes === expectedPushes, `baseline made ${pushes} pushes`);
        },
      },
    ],
    subject: startSyncPush(target, {
      todos,
      perTodo,
      events: options.events,
      expectedPushes: clientPushes(options.events),
    }),
  };
}

/**
 * The push subject: an offline client's `events` pending events, synced with `startSync` (with
 * `scopes`: scoped sync, as `sync.setScopes` would) until `whenSynced`.
 */
function startSyncPush(
  target: SyncBenchTarget,
  shape: { todos: number; perTodo: number; events: number; expectedPushes: number },
  scopes?: readonly ScopeRef[],
): Workload<PushSubject> {
  return {
    label: `startSync${scopes === undefined ? '' : ' with scopes'} until whenSynced (nothing pending)`,
    setup: async (): Promise<PushSubject> => {
      const strata = await createStrata({ name: freshName('sync-push') });
      await seedPendingCommands(strata, todoCommands(shape.todos, shape.perTodo, strata.clientId));
      check((await strata.db.commands.count()) === shape.events, 'pending commands seeded');
      const token = await bearerToken(target.jwtSecret, freshTenant('push'));
      return { token, strata, counter: countingFetch() };
    },
    run: async (context: PushSubject) => {
      context.sync = startSync(context.strata, {
        ...syncOptions(target, context.token),
        fetch: context.counter.fetch,
        ...(scopes === undefined ? {} : { scopes }),
      });
      await context.sync.whenSynced();
    },
    teardown: async ({ sync, strata, counter }: PushSubject) => {
      await sync?.stop();
      const { db } = strata;
      check((await db.commands.count()) === 0, 'commands still pending');
      check((await db.rejected.count()) === 0, 'commands were rejected');
      // Pending while a pending command lists it (issue 16): a scan, in an untimed teardown.
      check(
        (await syncedRows(db)).every((row) => row.pending === 0),
        'events still pending',
      );
      // The client batches by its defaults: a changed default must show here.
      check(
        counter.pushes() === shape.expectedPushes,
        `the client made ${counter.pushes()} pushes, its defaults make ${shape.expectedPushes}`,
      );
      if (scopes !== undefined) {
        // Scoped bookkeeping kept every todo: each is in the device's scope.
        check((await db.events.count()) === shape.events, 'events dropped by the scoped client');
      }
      await closeAndDelete(strata);
    },
  };
}

/**
 * The client's share of `pushBenchmark`: the same offline client, synced with `startSync`
 * against an in-memory server (a `fetch` that accepts every commit at once, with positions, and
 * has nothing to pull), so the time is the client's alone: collecting batches, the request and
 * answer (JSON, schema checks) and the acknowledgement bookkeeping in IndexedDB. Baseline: the
 * same pushes through the same in-memory server with plain `fetch` calls, no storage. The goal
 * is the whole-sync budget (3 s for 10k) less what the server needs.
 */
export function clientPushBenchmark(
  where: string,
  options: { readonly events: number; readonly runs: number },
): Benchmark {
  const todos = 100;
  check(options.events % todos === 0, `events must be a multiple of ${todos}`);
  const perTodo = options.events / todos;
  const expectedPushes = baselinePushes(options.events);
  return {
    name: `sync push, client only: offline client with ${options.events.toLocaleString('en-US')} pending events until all are acknowledged by an in-memory server (${where})`,
    unit: 'events',
    units: options.events,
    runs: options.runs,
    warmupRuns: 0,
    baseline: {
      label: `plain fetch to the in-memory server: POST /v2/push x${expectedPushes}, no storage`,
      setup: () => {
        const clientId = `bench-${freshTenant('client')}`;
        return { clientId, batches: pushBatches(todoCommands(todos, perTodo, clientId)) };
      },
      run: async ({ clientId, batches }: { clientId: string; batches: TodoCommand[][] }) => {
        const server = inMemoryPushServer();
        await commandPushWithFetch('memory:/', 'memory', clientId, batches, server.fetch);
        check(server.pushes() === expectedPushes, `baseline made ${server.pushes()} pushes`);
      },
    },
    subject: {
      label: 'startSync until whenSynced (nothing pending)',
      setup: async () => {
        const strata = await createStrata({ name: freshName('sync-push-client') });
        await seedPendingCommands(strata, todoCommands(todos, perTodo, strata.clientId));
        check((await strata.db.commands.count()) === options.events, 'pending commands seeded');
        return { strata, server: inMemoryPushServer() } as {
          strata: Strata;
          server: ReturnType<typeof inMemoryPushServer>;
          sync?: SyncClient;
        };
      },
      run: async (context: {
        strata: Strata;
        server: ReturnType<typeof inMemoryPushServer>;
        sync?: SyncClient;
      }) => {
        context.sync = startSync(context.strata, {
          url: 'memory:/',
          aggregates: [Todo],
          token: () => 'memory',
          locks: null,
          live: false,
          pollIntervalMs: 3_600_000,
          fetch: context.server.fetch,
        });
        await context.sync.whenSynced();
      },
      teardown: async ({
        sync,
        strata,
        server,
      }: {
        strata: Strata;
        server: ReturnType<typeof inMemoryPushServer>;
        sync?: SyncClient;
      }) => {
        await sync?.stop();
        const { db } = strata;
        check((await db.commands.count()) === 0, 'commands still pending');
        check((await db.rejected.count()) === 0, 'commands were rejected');
        check(
          (await syncedRows(db)).every((row) => row.pending === 0),
          'events still pending',
        );
        check(
          server.pushes() === clientPushes(options.events),
          `the client made ${server.pushes()} pushes, expected ${clientPushes(options.events)}`,
        );
        await closeAndDelete(strata);
      },
    },
  };
}

/**
 * A `fetch` standing in for the sync server, in memory: `POST /v2/push` accepts every commit with
 * its predicted events at the next positions; `GET /v1/pull` has nothing after any cursor.
 */
function inMemoryPushServer(): { readonly fetch: typeof fetch; readonly pushes: () => number } {
  let position = 0;
  let pushes = 0;
  const recordedAt = new Date().toISOString();
  const json = (body: unknown) =>
    new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  return {
    fetch: async (input, init) => {
      const url = String(input);
      if (init?.method === 'POST' && url.endsWith('/v2/push')) {
        pushes++;
        const { commits } = JSON.parse(String(init.body)) as {
          commits: { commitId: string; events: Record<string, unknown>[] }[];
        };
        return json({
          protocol: 2,
          results: commits.map(({ commitId, events }) => ({
            commitId,
            status: 'accepted',
            events: events.map((event) => ({ ...event, position: ++position, recordedAt })),
          })),
        });
      }
      if (url.includes('/v1/pull')) {
        return json({ events: [], cursor: 'memory', hasMore: false, remaining: 0 });
      }
      return new Response('not found', { status: 404 });
    },
    pushes: () => pushes,
  };
}

/**
 * What scoped sync adds to the push path: the same offline client as `pushBenchmark`, synced
 * whole-tenant (baseline) and with the one scope that holds its todos (subject), against one
 * server that serves both (`startBenchSyncServer({ scopes: true })`).
 */
export function scopedPushBenchmark(
  target: SyncBenchTarget,
  options: { readonly events: number; readonly runs: number; readonly scopes: readonly ScopeRef[] },
): Benchmark {
  const todos = 100;
  check(options.events % todos === 0, `events must be a multiple of ${todos}`);
  const shape = {
    todos,
    perTodo: options.events / todos,
    events: options.events,
    expectedPushes: clientPushes(options.events),
  };
  return {
    name: `sync push, scoped vs whole tenant: offline client with ${options.events.toLocaleString('en-US')} pending events until all are acknowledged (${target.where})`,
    unit: 'events',
    units: options.events,
    runs: options.runs,
    warmupRuns: 0,
    baseline: startSyncPush(target, shape),
    subject: startSyncPush(target, shape, options.scopes),
  };
}

// --- 2. a fresh client catches up ---------------------------------------------------------------

interface CatchUpSubject {
  readonly token: string;
  readonly strata: Strata;
  sync?: SyncClient;
}

/**
 * A fresh client (empty database) catches up with `events` events on the server (`seed` puts
 * them there once and returns the tenant's token): time until `whenSynced`, i.e. every page
 * pulled and stored in IndexedDB. Baseline: the same pages pulled with plain `fetch` and parsed,
 * nothing stored.
 */
export function catchUpBenchmark(
  target: SyncBenchTarget,
  options: {
    readonly events: number;
    readonly runs: number;
    readonly seed: () => Promise<string>;
  },
): Benchmark {
  return {
    name: `sync catch-up: fresh client pulls ${options.events.toLocaleString('en-US')} events into IndexedDB (${target.where})`,
    unit: 'events',
    units: options.events,
    runs: options.runs,
    // A run takes seconds: JIT warm-up is noise next to it.
    warmupRuns: 0,
    baseline: {
      label: `plain fetch: GET /v1/pull?limit=${PULL_LIMIT} + JSON, no storage`,
      setup: options.seed,
      run: async (token: string) => {
        const read = await pullWithFetch(target.url, token);
        check(read === options.events, `pulled ${read} events`);
      },
    },
    subject: {
      label: 'startSync on an empty database until whenSynced',
      setup: async (): Promise<CatchUpSubject> => ({
        token: await options.seed(),
        strata: await createStrata({ name: freshName('sync-catch-up') }),
      }),
      run: async (context: CatchUpSubject) => {
        context.sync = startSync(context.strata, syncOptions(target, context.token));
        await context.sync.whenSynced();
      },
      teardown: async ({ sync, strata }: CatchUpSubject) => {
        await sync?.stop();
        const stored = await strata.db.events.count();
        check(stored === options.events, `stored ${stored} events`);
        await closeAndDelete(strata);
      },
    },
  };
}

/** Memoises an async seed so it runs once, in the first (untimed) setup that needs it. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}
