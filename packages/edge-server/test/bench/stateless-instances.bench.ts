// Several stateless server instances on one Postgres (issue 18's scale plan, docs/production.md):
// push throughput through 1, 2 and 4 Node server processes (instance-process.ts) on one durable
// Postgres cluster (fsync and synchronous commits on), each instance with its own pool, reader,
// LISTEN connection and WebSocket proxy. The same workload on each side: CLIENTS clients, each
// pushing PUSHES pushes one after another (`POST /v2/push`, one new todo each, as the browser
// client sends it), client i through instance i mod n. Baseline: the same clients through one
// instance, measured in the same run, alternating. Two shapes: every client its own tenant (the
// appends of different tenants do not wait for each other), and every client in one tenant (its
// appends take the tenant's position row in turn, whichever instance they come through).
//
// After each run the bench checks through the API that each tenant holds exactly what was
// pushed (GET /v1/pull?count=true), so a fast run that lost pushes cannot pass.
//
// What the machine limits: every instance, Postgres and this client share the same cores
// (2 on the reference machine, see docs/benchmarks.md), so more instances cannot find CPU that is
// not there; the figure shows whether instances add contention or use idle time (waits on
// commits, round trips), not how a deployment with a core per instance would scale.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { type Cluster, findPostgresBin, startCluster } from '@strata/tooling/postgres/cluster';
import { bearerToken, pushNewTodo } from './http-bench-client.ts';
import type { InstanceProcessMessage, InstanceProcessOptions } from './instance-process.ts';

const CLIENTS = 16;
const PUSHES = 20;
const INSTANCES = 4;
const ENTRY = fileURLToPath(new URL('./instance-process.ts', import.meta.url));

process.env.PG_BIN ??= await findPostgresBin();
const cluster: Cluster = await startCluster({ durable: true });
const jwtSecret = randomBytes(32).toString('hex');
const children: ChildProcess[] = [];

async function startInstance(migrate: boolean): Promise<string> {
  const options: InstanceProcessOptions = { databaseUrl: cluster.databaseUrl, jwtSecret, migrate };
  const child = fork(ENTRY, [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    child.once('message', (message: InstanceProcessMessage) => {
      if (message.type === 'ready') resolve(message.url);
      else reject(new Error(`a bench instance failed to start: ${message.message}`));
    });
    child.once('exit', (code) => reject(new Error(`a bench instance exited with ${code}`)));
  });
}

// The first migrates; the others start once the schema is there.
const urls = [await startInstance(true)];
urls.push(
  ...(await Promise.all(Array.from({ length: INSTANCES - 1 }, () => startInstance(false)))),
);

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.send({ type: 'stop' });
        }),
    ),
  );
  await cluster.stop();
}

let runs = 0;
interface Run {
  readonly clients: readonly {
    readonly url: string;
    readonly token: string;
    readonly id: string;
  }[];
  readonly tenants: ReadonlyMap<string, string>;
}

/** CLIENTS clients with tokens, spread over the first `instances` servers. */
async function setupRun(instances: number, oneTenant: boolean): Promise<Run> {
  const run = runs++;
  const tenants = new Map<string, string>();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, index) => {
      const tenant = oneTenant ? `shared-${run}` : `tenant-${run}-${index}`;
      const token = await bearerToken(jwtSecret, tenant, `user-${index}`);
      tenants.set(tenant, token);
      return { url: urls[index % instances] as string, token, id: `client-${run}-${index}` };
    }),
  );
  return { clients, tenants };
}

async function pushAll({ clients }: Run): Promise<void> {
  await Promise.all(
    clients.map(async ({ url, token, id }) => {
      for (let push = 0; push < PUSHES; push++) await pushNewTodo(url, token, id);
    }),
  );
}

/** Each tenant holds exactly the pushes its clients made. */
async function expectStored({ clients, tenants }: Run): Promise<void> {
  const perTenant = (clients.length * PUSHES) / tenants.size;
  for (const [tenant, token] of tenants) {
    const response = await fetch(new URL('v1/pull?limit=1&count=true', urls[0]), {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await response.json()) as { events: unknown[]; remaining: number };
    const stored = page.events.length + page.remaining;
    if (stored !== perTenant) throw new Error(`${tenant} holds ${stored} of ${perTenant} events`);
  }
}

function side(instances: number, oneTenant: boolean) {
  return {
    label: `${instances} instance${instances === 1 ? '' : 's'}`,
    setup: () => setupRun(instances, oneTenant),
    run: pushAll,
    teardown: expectStored,
  };
}

const shape = (oneTenant: boolean) =>
  oneTenant ? `${CLIENTS} clients of one tenant` : `${CLIENTS} clients, a tenant each`;

// Warm every instance (JIT, pools, prepared paths) before anything is timed: without it the
// first benchmark's single instance measured half the speed of the later ones.
for (let instance = 0; instance < INSTANCES; instance++) {
  const run = await setupRun(1, false);
  await pushAll({
    ...run,
    clients: run.clients.map((client) => ({ ...client, url: urls[instance] as string })),
  });
}

export default [
  ...[2, 4].map((instances) =>
    defineBenchmark({
      name: `pushes through ${instances} stateless instances vs 1 on one durable Postgres (${shape(false)}, ${PUSHES} pushes each)`,
      unit: 'pushes',
      units: CLIENTS * PUSHES,
      runs: 5,
      baseline: side(1, false),
      subject: side(instances, false),
      goal: `informational: ${instances} instances share the machine's cores with Postgres and the clients`,
    }),
  ),
  defineBenchmark({
    name: `pushes through 2 stateless instances vs 1 on one durable Postgres (${shape(true)}, ${PUSHES} pushes each)`,
    unit: 'pushes',
    units: CLIENTS * PUSHES,
    runs: 5,
    baseline: side(1, true),
    subject: side(2, true),
    goal: 'informational: one tenant appends in turn, whichever instance a push comes through',
  }),
];
