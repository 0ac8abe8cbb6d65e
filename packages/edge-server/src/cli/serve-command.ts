/**
 * `strata serve`: the sync server on Node, on the embedded PGlite (default) or `DATABASE_URL`,
 * with the app definition of `--app` / `STRATA_APP` (without one: the generic app).
 */
import { startNodeServer } from '../node/server.ts';
import { parsePort } from '../runtimes/env.ts';
import { loadAppDefinition } from '../runtimes/server-settings.ts';
import { type CliCommand, parseCommandArgs, UsageError } from './cli-command.ts';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the sync server (embedded PGlite, or DATABASE_URL)',
  help: `usage: strata serve [--app MODULE] [--port N] [--host H] [--data-dir DIR] [--no-migrate]

Runs the sync server until SIGINT/SIGTERM, then stops gracefully.

Options:
  --app MODULE     the app definition: a module whose default export is defineSyncServer({...})
                   (its aggregates, authority, scopes, authentication); default STRATA_APP. Without
                   one, events are stored as pushed, unvalidated.
  --port N         the port (0: a free one); default PORT, else 8787
  --host H         the interface; default HOST, else 0.0.0.0 with authentication, 127.0.0.1 without
  --data-dir DIR   PGlite's folder when DATABASE_URL is unset; default STRATA_DATA_DIR, else .data/strata
  --no-migrate     do not apply missing migrations at startup (see strata migrate)

Environment: DATABASE_URL, STRATA_DATA_DIR, STRATA_APP, JWT_SECRET, PORT, HOST, CORS_ORIGINS,
STRATA_MIGRATE, STRATA_ALLOWED_HOSTS, STRATA_RATE_LIMIT_*, STRATA_METRICS_TOKEN, STRATA_POOL_*,
NEON_WS_PROXY.`,
  async run(args) {
    const { values } = parseCommandArgs(args, {
      app: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'no-migrate': { type: 'boolean' },
    });
    let port: number | undefined;
    try {
      port = values.port === undefined ? undefined : parsePort(values.port, 0);
    } catch (error) {
      throw new UsageError(`--port: ${(error as Error).message}`);
    }
    const warn = (line: string) => console.warn(line);
    const app = await loadAppDefinition(values.app, process.env, process.cwd(), warn);
    await startNodeServer(app, {
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { hostname: values.host }),
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      ...(values['no-migrate'] === true ? { migrate: false } : {}),
    });
  },
};
