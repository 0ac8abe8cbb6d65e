// The write side of scopes: a device may only write what it may hold. Checked inside the
// append's transaction, where both the stored scopes of the aggregate (before this append) and
// the events being stored (whatever decided them: the device, `verify` or the server's `decide`)
// are known, and a refusal stores nothing.
import { ForbiddenError, type StreamRef, TENANT_SCOPE_NAME } from '@strata/core';
import type { Principal } from '../app/auth.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { currentScopes } from './current-scopes.ts';
import type { ScopeWriteCheck } from './scope-rows-hook.ts';
import type { ScopeAccess } from './scope-rules.ts';

/**
 * The write check of scoped sync (`scopeRowsHook`'s `check`): refuses (`FORBIDDEN`, nothing
 * stored) a write by a principal who holds neither `tenant` nor one of the write's scopes (an
 * existing aggregate's scopes before it, or every scope a new one joins; a type without a
 * membership has none), and one that puts the aggregate into a scope its placement rule refuses.
 * `writerOf` names who appends; undefined (an append nobody vouched for) is refused. The rows
 * hook hands it the scopes it read and folded anyway, so the check costs no statement.
 *
 * @example
 * createPostgresEventStore(db, { tenant, appendHooks: [scopeRowsHook(memberships, scopeWriteCheck(access, () => principal))] });
 */
export function scopeWriteCheck(
  access: ScopeAccess,
  writerOf: (events: readonly PostgresStoredEvent[]) => Principal | undefined,
): ScopeWriteCheck {
  return async ({ stream, events, before, joined }) => {
    const principal = writerOf(events);
    if (principal === undefined) throw outside(stream);
    // `tenant` first: its holders write and place anything.
    if (await access.holdsAny(principal, [TENANT_SCOPE_NAME])) return;
    const isNew = events[0]?.version === 1;
    const scopes = isNew ? joined.map((scope) => scope.key) : before;
    if (!(await access.holdsAny(principal, scopes))) throw outside(stream);
    for (const scope of joined) {
      if (!(await access.mayPlace(principal, scope))) {
        throw new ForbiddenError(
          `Putting ${stream.aggregateType}/${stream.aggregateId} into ${scope.key} is not allowed for this user`,
        );
      }
    }
  };
}

const outside = (stream: StreamRef) =>
  new ForbiddenError(
    `Writing ${stream.aggregateType}/${stream.aggregateId} is outside the scopes this user may hold`,
  );

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
  if (await holdsAggregate(access, executor, principal, stream)) return true;
  // Not held: new (anyone may try to create it; the append checks what it joins), or outside.
  const { rows } = await executor.query(
    `SELECT 1 FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 LIMIT 1`,
    [principal.tenant, stream.aggregateType, stream.aggregateId],
  );
  return rows.length === 0;
}
