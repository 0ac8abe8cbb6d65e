/**
 * One stateless server instance for stateless-instances.bench.ts: the Node edge server on a
 * Postgres cluster the bench started, through a WebSocket proxy of its own (as each instance of
 * a real deployment reaches Neon's proxy, the proxy's work is this instance's, not a shared
 * process's). Reports `{ type: 'ready', url }` over IPC and stops when the parent says `stop`
 * or goes away. Not a bench file: run only through `fork`, argv[2] the JSON of
 * `InstanceProcessOptions`.
 */
import { startNodeServer } from '@strata/edge-server/node';
import { Todo } from '@strata/example-todo';
import { startWsProxy } from '@strata/tooling/postgres/ws-proxy';

export interface InstanceProcessOptions {
  /** The cluster's TCP URL. */
  readonly databaseUrl: string;
  readonly jwtSecret: string;
  /** The first instance migrates; the others start on the migrated schema. */
  readonly migrate: boolean;
}

export type InstanceProcessMessage =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'failed'; readonly message: string };

const send = (message: InstanceProcessMessage) =>
  new Promise<void>((resolve) => process.send?.(message, () => resolve()));

const cleanups: (() => Promise<unknown>)[] = [];
let stopping: Promise<void> | undefined;
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    console.error = () => undefined; // reads cut short by the shutdown are no news
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    process.exit(code);
  })();
  return stopping;
}

async function main(options: InstanceProcessOptions): Promise<void> {
  const target = new URL(options.databaseUrl);
  const proxy = await startWsProxy({ host: target.hostname, port: Number(target.port) });
  cleanups.push(() => proxy.close());
  const server = await startNodeServer({
    port: 0,
    hostname: '127.0.0.1',
    databaseUrl: options.databaseUrl,
    env: { NEON_WS_PROXY: `127.0.0.1:${proxy.port}` },
    aggregates: [Todo],
    // Pushes store the client's events, as the other HTTP benches (deciding is authority.bench.ts).
    authority: { Todo: 'events' },
    jwtSecret: options.jwtSecret,
    migrate: options.migrate,
    rateLimits: false,
    handleSignals: false,
    shutdownGraceMs: 0,
    onError: (error: unknown) => {
      if (stopping === undefined) console.error('[bench instance] request failed', error);
    },
    log: () => undefined,
    warn: () => undefined,
  });
  cleanups.push(() => server.close());
  await send({ type: 'ready', url: server.url });
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

main(JSON.parse(process.argv[2] ?? '{}') as InstanceProcessOptions).catch(
  async (error: unknown) => {
    await send({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await stop(1);
  },
);
