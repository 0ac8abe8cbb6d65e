import type { StreamRef } from '@strata/core';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/**
 * An aggregate's current scope keys, as the membership fold left them after its last event
 * (scope-rows-hook.ts): [] when it has none, does not exist, or its type declares no
 * membership. What the write check asks before an event on an existing aggregate.
 *
 * @example
 * await currentScopes(database, 'acme', { aggregateType: 'Task', aggregateId: 't1' });
 * // ['assignedTo:{"userId":"ann"}', 'project:{"projectId":"p1"}']
 */
export async function currentScopes(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
): Promise<string[]> {
  const { rows } = await executor.query<{ scopes: string[] }>(
    `SELECT scopes FROM strata_scope_memberships
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
    [tenant, stream.aggregateType, stream.aggregateId],
  );
  return rows[0]?.scopes ?? [];
}
