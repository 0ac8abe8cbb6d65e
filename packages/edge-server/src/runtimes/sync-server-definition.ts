/**
 * One app definition for every runtime entry: the aggregates, authority, scopes, authentication
 * and app options an app writes once (e.g. in `app.ts`), and that Node (`startNodeServer`,
 * `strata serve --app`), Bun (`serveOnBun`), Deno (`serveOnDeno`) and Workers
 * (`createSyncWorker`) all take, so every entry validates and authorizes alike.
 * Runtime-neutral: no Node built-ins.
 */
import type { Authenticate } from '../app/auth.ts';
import type { SyncAppOptions } from '../app/create-sync-app.ts';

/**
 * What an app is, whatever runs it: `createSyncApp`'s options but the ones each runtime supplies
 * (the database, its LISTEN source, the client's address). Without `authenticate`, every entry
 * authenticates from its environment (`authenticationFromEnv`: `JWT_SECRET`, ...). Settings from
 * the environment (`CORS_ORIGINS`, rate limits, metrics) apply where the definition leaves them
 * unset.
 */
export interface SyncServerDefinition
  extends Omit<SyncAppOptions, 'database' | 'authenticate' | 'listen' | 'clientAddress'> {
  /** Who is calling. Defaults to the environment's authentication (`authenticationFromEnv`). */
  readonly authenticate?: Authenticate;
}

/** Marks what `defineSyncServer` returned, so a loaded module's export can be recognised. */
const DEFINITION = Symbol.for('strata.syncServerDefinition');

/**
 * Declares the app once, for every runtime entry. Returns the definition as given (frozen,
 * marked as one).
 *
 * @example
 * // app.ts
 * export default defineSyncServer({ aggregates: [Todo, Cart], authority: { Todo: 'events' } });
 * // then: strata serve --app ./app.ts · STRATA_APP=./app.ts bun …/runtimes/bun.ts
 * //       export default createSyncWorker(app) (a Worker's entry)
 */
export function defineSyncServer(definition: SyncServerDefinition): SyncServerDefinition {
  if (typeof definition !== 'object' || definition === null) {
    throw new TypeError('defineSyncServer takes an object: { aggregates, authority, scopes, … }');
  }
  if (definition.aggregates !== undefined && !Array.isArray(definition.aggregates)) {
    throw new TypeError('defineSyncServer: aggregates must be an array of aggregate definitions');
  }
  const marked = { ...definition };
  Object.defineProperty(marked, DEFINITION, { value: true, enumerable: false });
  return Object.freeze(marked);
}

/** Whether `value` came from `defineSyncServer` (in this or another copy of the module). */
export function isSyncServerDefinition(value: unknown): value is SyncServerDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEFINITION] === true
  );
}

/**
 * The definition a module exports: its default export, else an export named `app`. Throws a
 * message naming the module when it has neither. `name` is how the module is called in it.
 */
export function definitionOfModule(module: unknown, name: string): SyncServerDefinition {
  const exports = (module ?? {}) as { default?: unknown; app?: unknown };
  const candidate = isSyncServerDefinition(exports.default) ? exports.default : exports.app;
  if (!isSyncServerDefinition(candidate)) {
    throw new Error(
      `${name} exports no app definition: export default defineSyncServer({ aggregates: [...] })`,
    );
  }
  return candidate;
}

/**
 * Imports the app module at `path` (relative to `cwd`, a folder path) and returns its
 * definition. Works in Node (with a TS loader for .ts files), Bun and Deno.
 */
export async function importSyncServerDefinition(
  path: string,
  cwd: string,
): Promise<SyncServerDefinition> {
  const base = new URL(`file://${cwd.endsWith('/') ? cwd : `${cwd}/`}`);
  const url = new URL(path, base);
  let module: unknown;
  try {
    module = await import(url.href);
  } catch (error) {
    throw new Error(`Cannot load the app module ${path}: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  return definitionOfModule(module, path);
}
