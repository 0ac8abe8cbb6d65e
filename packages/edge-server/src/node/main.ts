/**
 * Command line of the Node sync server.
 *
 *   tsx src/node/main.ts [start] [--port 8787] [--host 127.0.0.1] [--data-dir .data/strata] [--no-migrate]
 *   tsx src/node/main.ts migrate [--data-dir .data/strata]
 *   tsx src/node/main.ts rebuild [name...] --projections ./app/projections.ts [--data-dir .data/strata]
 *
 * (`pnpm --filter @strata/edge-server start` / `... migrate`.) Settings not given as flags come
 * from the environment: DATABASE_URL, STRATA_DATA_DIR, JWT_SECRET, PORT, HOST, CORS_ORIGINS,
 * STRATA_MIGRATE, NEON_WS_PROXY.
 */
import { parseArgs } from 'node:util';
import { describeError } from '../logging/describe-error.ts';
import { parsePort } from '../runtimes/env.ts';
import { rebuildNodeProjections } from './rebuild-command.ts';
import { migrateNodeDatabase, type NodeServerOptions, startNodeServer } from './server.ts';

const USAGE = `usage: main.ts [start] [--port N] [--host H] [--data-dir DIR] [--no-migrate]
       main.ts migrate [--data-dir DIR]
       main.ts rebuild [PROJECTION...] --projections MODULE [--data-dir DIR]`;

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'no-migrate': { type: 'boolean' },
      projections: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'start', ...rest] = positionals;
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const dataDir = values['data-dir'];
  if (command === 'rebuild') {
    if (values.projections === undefined) throw new Error(`rebuild needs --projections\n${USAGE}`);
    await rebuildNodeProjections({
      projectionsModule: values.projections,
      names: rest,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
    return;
  }
  if (rest.length > 0 || (command !== 'start' && command !== 'migrate')) {
    throw new Error(`Unexpected arguments: ${positionals.join(' ')}\n${USAGE}`);
  }
  if (command === 'migrate') {
    await migrateNodeDatabase(dataDir === undefined ? {} : { dataDir });
    return;
  }
  const options: NodeServerOptions = {
    ...(values.port === undefined ? {} : { port: parsePort(values.port, 0) }),
    ...(values.host === undefined ? {} : { hostname: values.host }),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(values['no-migrate'] === true ? { migrate: false } : {}),
  };
  await startNodeServer(options);
}

// `pnpm start -- --port 1234` passes the `--` through: skip it.
const argv = process.argv.slice(2);
main(argv[0] === '--' ? argv.slice(1) : argv).catch((error: unknown) => {
  console.error(`[strata] failed: ${describeError(error)}`);
  process.exit(1);
});
