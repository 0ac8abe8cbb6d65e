/**
 * How a long-running entry (Node, Bun, Deno) turns an app definition and its environment into
 * the server's settings, the same way on each: the environment's settings, the definition over
 * them, and the environment's authentication when the definition has none. Runtime-neutral.
 */
import type { Authenticate } from '../app/auth.ts';
import { authenticationFromEnv, tokenAuthenticationInEnv } from './authentication-from-env.ts';
import { type EnvRecord, envValue } from './env.ts';
import { type ServerApp, type ServerAppOptions, serverOptionsFromEnv } from './server-app.ts';
import {
  defineSyncServer,
  importSyncServerDefinition,
  type SyncServerDefinition,
} from './sync-server-definition.ts';

/** The environment variable naming the app module of `bun.ts`, `deno.ts` and `strata serve`. */
export const APP_ENV_VAR = 'STRATA_APP';

/** A running server of `serveOnBun` / `serveOnDeno`. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:8787`: where this machine reaches the server. */
  readonly url: string;
  readonly server: ServerApp;
  /** Graceful stop: subscriptions ended, requests in flight finished, database closed. */
  close(): Promise<void>;
}

/** Server settings of `app` under `env`, with its authentication decided. */
export function serverSettingsFor(
  app: SyncServerDefinition,
  env: EnvRecord,
  warn: (line: string) => void,
): ServerAppOptions & { readonly authenticate: Authenticate } {
  return {
    ...serverOptionsFromEnv(env),
    ...app,
    authenticate: app.authenticate ?? authenticationFromEnv(env, warn),
  };
}

/**
 * Whether requests to these settings are authenticated (a custom hook, `JWT_SECRET` or
 * `JWT_JWKS_URL`): decides whether the server listens on all interfaces by default.
 */
export function isAuthenticated(app: SyncServerDefinition, env: EnvRecord): boolean {
  return app.authenticate !== undefined || tokenAuthenticationInEnv(env);
}

/**
 * The app module `path` names (else `STRATA_APP`), loaded relative to `cwd`; without either,
 * the generic app (no aggregates: any well-formed event is stored as pushed), and `warn` is
 * told so.
 */
export async function loadAppDefinition(
  path: string | undefined,
  env: EnvRecord,
  cwd: string,
  warn: (line: string) => void,
): Promise<SyncServerDefinition> {
  const module = path ?? envValue(env, APP_ENV_VAR);
  if (module !== undefined) return importSyncServerDefinition(module, cwd);
  warn(
    `[strata] no app definition (--app or ${APP_ENV_VAR}): events are stored as pushed, ` +
      'without aggregates to validate them or decide commands.',
  );
  return defineSyncServer({});
}
