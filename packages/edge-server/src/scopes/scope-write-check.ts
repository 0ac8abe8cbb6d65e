// The write side of scopes: a device may only write what it may hold. Checked inside the
// append's transaction, where both the stored scopes of the aggregate (before this append) and
// the events being stored (whatever decided them: the device, `verify` or the server's `decide`)
// are known, and a refusal stores nothing.
import {
  ForbiddenError,
  parseScopeKey,
  type ScopeMembership,
  type ScopeRef,
  type StreamRef,
  scopesAfter,
  TENANT_SCOPE_NAME,
} from '@strata/core';
import type { Principal } from '../app/auth.ts';
import type { AppendHook } from '../postgres/append-hook.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { currentScopes } from './current-scopes.ts';
import type { ScopeAccess } from './scope-rules.ts';

/**
 * The scopes that let a writer append `events`: an existing aggregate's current scopes, or for
 * a new one every scope its events make it join. Types without a membership have none (only
 * holders of `tenant` write them).
 */
export function scopesOfWrite(
  membership: ScopeMembership | undefined,
  events: readonly PostgresStoredEvent[],
  current: () => Promise<string[]>,
): Promise<string[]> | string[] {
  const first = events[0];
  if (membership === undefined || first === undefined) return [];
  if (first.version > 1) return current();
  return [
    ...new Set(scopesAfter(membership, [], events).flatMap((list) => list.map((s) => s.key))),
  ];
}

/**
 * An append hook refusing (`FORBIDDEN`, nothing stored) a write by a principal who may hold
 * neither `tenant` nor one of the write's scopes (`scopesOfWrite`). Install it before the scope
 * rows hook, which moves the aggregate's current scopes. `writerOf` names who appends; undefined
 * (an append nobody vouched for) is refused.
 *
 * @example
 * createPostgresEventStore(db, { tenant, appendHooks: [scopeWriteCheck(access, () => principal), scopeRowsHook(memberships)] });
 */
export function scopeWriteCheck(
  access: ScopeAccess,
  writerOf: (events: readonly PostgresStoredEvent[]) => Principal | undefined,
): AppendHook {
  return async (events, { tenant, transaction }) => {
    const first = events[0];
    if (first === undefined) return;
    const stream: StreamRef = {
      aggregateType: first.aggregateType,
      aggregateId: first.aggregateId,
    };
    const principal = writerOf(events);
    const refuse = () =>
      new ForbiddenError(
        `Writing ${stream.aggregateType}/${stream.aggregateId} is outside the scopes this user may hold`,
      );
    if (principal === undefined) throw refuse();
    // `tenant` first: its holders write anything, without reading the aggregate's scopes.
    if (await access.holdsAny(principal, [TENANT_SCOPE_NAME])) return;
    const membership = access.memberships.get(stream.aggregateType);
    let current: string[] | undefined;
    const currentOnce = async () => {
      current ??= await currentScopes(transaction, tenant, stream);
      return current;
    };
    const scopes = await scopesOfWrite(membership, events, currentOnce);
    if (!(await access.holdsAny(principal, scopes))) throw refuse();
    if (membership === undefined) return;
    const before = first.version === 1 ? [] : await currentOnce();
    for (const scope of joinedScopes(membership, before, events)) {
      if (!(await access.mayPlace(principal, scope))) {
        throw new ForbiddenError(
          `Putting ${stream.aggregateType}/${stream.aggregateId} into ${scope.key} is not allowed for this user`,
        );
      }
    }
  };
}

/** The scopes `events` make the aggregate join, from its scope keys before them. */
function joinedScopes(
  membership: ScopeMembership,
  before: readonly string[],
  events: readonly PostgresStoredEvent[],
): ScopeRef[] {
  const held = new Set(before);
  const joined = new Map<string, ScopeRef>();
  const start = before.flatMap((key) => {
    const parts = parseScopeKey(key);
    return parts === undefined ? [] : [{ ...parts, key }];
  });
  for (const list of scopesAfter(membership, start, events)) {
    for (const scope of list) if (!held.has(scope.key)) joined.set(scope.key, scope);
  }
  return [...joined.values()];
}

/**
 * Whether `principal` may reach a stored aggregate outside scoped reads (its history, its key):
 * by `tenant`, or by holding one of its current scopes, as a write to it would need.
 *
 * @example
 * if (!(await holdsAggregate(access, database, principal, stream))) throw new AggregateNotFoundError(stream);
 */
export async function holdsAggregate(
  access: ScopeAccess,
  executor: SqlExecutor,
  principal: Principal,
  stream: StreamRef,
): Promise<boolean> {
  if (await access.holdsAny(principal, [TENANT_SCOPE_NAME])) return true;
  return access.holdsAny(principal, await currentScopes(executor, principal.tenant, stream));
}

/**
 * Whether `principal` may send a command or events to an aggregate at all, checked before
 * anything loads or decides it: by `tenant`, by one of its current scopes, or because it does
 * not exist yet (the append then checks the scopes its events join). An aggregate outside the
 * writer's scopes is refused before any answer (accepted, a domain refusal, a version) can tell
 * what it holds.
 *
 * @example
 * if (!(await mayWriteAggregate(access, database, principal, stream))) throw new ForbiddenError();
 */
export async function mayWriteAggregate(
  access: ScopeAccess,
  executor: SqlExecutor,
  principal: Principal,
  stream: StreamRef,
): Promise<boolean> {
  if (await access.holdsAny(principal, [TENANT_SCOPE_NAME])) return true;
  const scopes = await currentScopes(executor, principal.tenant, stream);
  if (scopes.length > 0) return access.holdsAny(principal, scopes);
  // No scopes: new (anyone may try to create it), or of a type only `tenant` holders write.
  const { rows } = await executor.query(
    `SELECT 1 FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 LIMIT 1`,
    [principal.tenant, stream.aggregateType, stream.aggregateId],
  );
  return rows.length === 0;
}
