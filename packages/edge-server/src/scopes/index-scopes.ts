import { type ScopeMembership, scopesAfter } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import type { Migration } from '../migrations/migration.ts';
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import { planScopeRows } from './scope-row-plan.ts';
import { writeScopeRows } from './scope-rows-hook.ts';

/**
 * Which aggregate types' stored aggregates were indexed into their scopes (`indexScopes`), so a
 * restart does not scan their events again.
 */
export const SCOPE_INDEX_MIGRATION: Migration = {
  version: 10,
  name: 'aggregate types indexed into their scopes',
  sql: `
    CREATE TABLE strata_scope_indexed_types (
      aggregate_type text PRIMARY KEY,
      indexed_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};

/** What `indexScopes` did. */
export interface IndexScopesResult {
  /** Aggregates placed in their scopes. */
  readonly aggregates: number;
  /** Aggregate types whose stored aggregates were looked through (the others were done before). */
  readonly types: readonly string[];
}

/**
 * Places aggregates stored before their type declared a membership in their scopes, as if the
 * rows had been written with their events: each event's rows at its own position. Run it where
 * `migrate` runs (the Node, Bun and Deno servers do at startup), before devices ask for those
 * scopes: a device that already read a scope past an aggregate's positions does not see rows
 * added there later. Types done once are remembered; aggregates that already have their
 * scopes are left alone. Without it, such an aggregate joins its scopes at its next event.
 *
 * @example
 * await migrate(database);
 * await indexScopes(database, [taskScopes]);
 */
export async function indexScopes(
  database: SqlDatabase,
  memberships: readonly ScopeMembership[],
  options: { readonly batchSize?: number } = {},
): Promise<IndexScopesResult> {
  const batchSize = options.batchSize ?? 500;
  const types: string[] = [];
  let aggregates = 0;
  for (const membership of memberships) {
    const { rows: done } = await database.query(
      'SELECT 1 FROM strata_scope_indexed_types WHERE aggregate_type = $1',
      [membership.aggregateType],
    );
    if (done.length > 0) continue;
    types.push(membership.aggregateType);
    // Keyset pages: an aggregate the fold cannot read stays unplaced and is not asked for again.
    let after = { tenant: '', aggregateId: '' };
    for (;;) {
      const unindexed = await unindexedAggregates(
        database,
        membership.aggregateType,
        after,
        batchSize,
      );
      for (const { tenant, aggregateId } of unindexed) {
        if (await indexAggregate(database, membership, tenant, aggregateId)) aggregates++;
      }
      const last = unindexed.at(-1);
      if (last === undefined || unindexed.length < batchSize) break;
      after = last;
    }
    await database.query(
      'INSERT INTO strata_scope_indexed_types (aggregate_type) VALUES ($1) ON CONFLICT DO NOTHING',
      [membership.aggregateType],
    );
  }
  return { aggregates, types };
}

/** Aggregates of `aggregateType` (by their first event) after `after` that have no scopes recorded. */
async function unindexedAggregates(
  executor: SqlExecutor,
  aggregateType: string,
  after: { readonly tenant: string; readonly aggregateId: string },
  limit: number,
): Promise<{ tenant: string; aggregateId: string }[]> {
  const { rows } = await executor.query<{ tenant: string; aggregate_id: string }>(
    `SELECT event.tenant, event.aggregate_id FROM strata_events event
     WHERE event.aggregate_type = $1 AND event.version = 1
       AND NOT EXISTS (
         SELECT 1 FROM strata_scope_memberships membership
         WHERE membership.tenant = event.tenant AND membership.aggregate_type = event.aggregate_type
           AND membership.aggregate_id = event.aggregate_id)
       AND (event.tenant, event.aggregate_id) > ($2, $3)
     ORDER BY event.tenant, event.aggregate_id
     LIMIT $4`,
    [aggregateType, after.tenant, after.aggregateId, limit],
  );
  return rows.map((row) => ({ tenant: row.tenant, aggregateId: row.aggregate_id }));
}

/**
 * One aggregate, in one transaction. An append to it at the same time folds its history itself
 * (scope-rows-hook.ts); then this one finds its scopes recorded and does nothing, or both write
 * rows (at different positions) and a device receives its history twice, which it ignores.
 */
async function indexAggregate(
  database: SqlDatabase,
  membership: ScopeMembership,
  tenant: string,
  aggregateId: string,
): Promise<boolean> {
  return database.transaction(async (tx) => {
    const { rows: recorded } = await tx.query(
      `SELECT 1 FROM strata_scope_memberships
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
      [tenant, membership.aggregateType, aggregateId],
    );
    if (recorded.length > 0) return false;
    const { rows } = await tx.query<EventRow>(
      `SELECT ${eventColumns()} FROM strata_events
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3
       ORDER BY version`,
      [tenant, membership.aggregateType, aggregateId],
    );
    const events = await decryptStoredEvents(tx, rows.map(toStoredEvent));
    const first = events[0];
    if (first === undefined) return false;
    let lists: string[][];
    try {
      lists = scopesAfter(membership, [], events).map((list) => list.map((scope) => scope.key));
    } catch {
      // Data the fold cannot read (forgotten, or sealed by the client): it stays unplaced, as
      // the append hook would leave it.
      return false;
    }
    const plan = planScopeRows([], events, lists);
    await writeScopeRows(tx, tenant, first, plan, true);
    return true;
  });
}
