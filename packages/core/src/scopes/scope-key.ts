// A scope on the wire and in Postgres is one string: its name, then its parameters as canonical
// JSON (keys sorted), so equal scopes are equal strings and an index can select by it.
import { canonicalJson } from '../event-store/same-event-content.ts';

/** The parsed form of a scope key: a name and its (not yet validated) parameters. */
export interface ScopeKeyParts {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
}

const SCOPE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Whether `name` may name a scope: a letter, then letters, digits, `_` or `-` (at most 64). */
export function isScopeName(name: string): boolean {
  return SCOPE_NAME.test(name);
}

/**
 * The key of scope `name` with `params`: the bare name when there are none, else
 * `name:` followed by the parameters as canonical JSON.
 *
 * @example
 * scopeKey('project', { projectId: 'p1' }); // 'project:{"projectId":"p1"}'
 * scopeKey('tenant', {}); // 'tenant'
 */
export function scopeKey(name: string, params: Readonly<Record<string, unknown>>): string {
  if (!isScopeName(name)) throw new TypeError(`"${name}" is not a scope name`);
  return Object.keys(params).length === 0 ? name : `${name}:${canonicalJson(params)}`;
}

/**
 * Splits a scope key into name and parameters, or undefined when it is not one (a bad name,
 * parameters that are not a JSON object, or not in canonical form: one scope, one key).
 *
 * @example
 * parseScopeKey('project:{"projectId":"p1"}'); // { name: 'project', params: { projectId: 'p1' } }
 */
export function parseScopeKey(key: string): ScopeKeyParts | undefined {
  const colon = key.indexOf(':');
  const name = colon === -1 ? key : key.slice(0, colon);
  if (!isScopeName(name)) return undefined;
  if (colon === -1) return { name, params: {} };
  let params: unknown;
  try {
    params = JSON.parse(key.slice(colon + 1));
  } catch {
    return undefined;
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const parts = { name, params: params as Record<string, unknown> };
  return scopeKey(name, parts.params) === key ? parts : undefined;
}
