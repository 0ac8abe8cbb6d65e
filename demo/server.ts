/**
 * The demo's server: the built app (`dist/`, from `pnpm --filter @strata/demo build`) and the
 * sync API on one port, on embedded PGlite persisted in `demo/.data/strata`. No database to set
 * up. `pnpm start` at the repository root builds the app and runs this file:
 *
 *   tsx demo/server.ts             # http://127.0.0.1:8787
 *   PORT=3000 tsx demo/server.ts   # another port (0: any free one)
 *
 * The edge server's other settings still come from the environment (`DATABASE_URL`, `JWT_SECRET`,
 * `HOST`; see the README's Deploy table).
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type NodeServer, type NodeServerOptions, startNodeServer } from '@strata/edge-server/node';
import { Todo, todoScopes, todosOf } from '@strata/example-todo';

/** The built app. */
export const DEMO_DIST_DIR = fileURLToPath(new URL('./dist', import.meta.url));
/** Where PGlite keeps the demo's events (git-ignored). */
export const DEMO_DATA_DIR = fileURLToPath(new URL('./.data/strata', import.meta.url));

/** The sync server for the demo's aggregates, serving the built app; options override. */
export function startDemoServer(options: NodeServerOptions = {}): Promise<NodeServer> {
  return startNodeServer({
    aggregates: [Todo],
    // The server decides every Todo command again on its own state (the default, said aloud).
    authority: { Todo: 'decide' },
    // Each device replicates its user's todos (the demo has one user: no sign-in, `anonymous`).
    scopes: {
      definitions: [todosOf],
      membership: [todoScopes],
      rules: { todosOf: (principal, { userId }) => principal.subject === userId },
    },
    staticDir: DEMO_DIST_DIR,
    dataDir: DEMO_DATA_DIR,
    ...options,
  });
}

// Run as a script (not imported, e.g. by the e2e test).
const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  startDemoServer().then(
    (server) => console.log(`\n  strata TodoMVC demo: open ${server.url}\n`),
    (error: unknown) => {
      console.error('[strata] the demo could not start:', error);
      process.exit(1);
    },
  );
}
