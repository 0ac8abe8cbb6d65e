import { type StreamRef, streamKey } from '@strata/core';
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

/**
 * `currentScopes` of several aggregates of a tenant in one statement, by stream key; an
 * aggregate without scopes is absent.
 */
export async function currentScopesOf(
  executor: SqlExecutor,
  tenant: string,
  streams: readonly StreamRef[],
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (streams.length === 0) return found;
  const { rows } = await executor.query<{
    aggregate_type: string;
    aggregate_id: string;
    scopes: string[];
  }>(
    `SELECT aggregate_type, aggregate_id, scopes FROM strata_scope_memberships
     WHERE tenant = $1 AND (aggregate_type, aggregate_id) IN
       (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [
      tenant,
      streams.map((stream) => stream.aggregateType),
      streams.map((stream) => stream.aggregateId),
    ],
  );
  for (const row of rows) {
    found.set(
      streamKey({ aggregateType: row.aggregate_type, aggregateId: row.aggregate_id }),
      row.scopes,
    );
  }
  return found;
}
