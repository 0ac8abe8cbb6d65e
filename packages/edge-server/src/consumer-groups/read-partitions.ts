/** Reading partitions in the no-skip global order, shared by claims and nacks (internal). */
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import { compareGlobalCursors, type GlobalCursor } from '../postgres/global-cursor.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { type ConsumerGroup, partitionExpression } from './consumer-group-definition.ts';

/** The next events of the given partitions after their checkpoints, in the no-skip order. */
export async function readPartitions(
  db: SqlExecutor,
  group: ConsumerGroup,
  checkpoints: readonly { partition: number; cursor: GlobalCursor }[],
  limit: number,
): Promise<{ partition: number; event: PostgresStoredEvent }[]> {
  if (checkpoints.length === 0) return [];
  const params = checkpointScanParams(group, checkpoints, limit);
  const { rows } = await db.query<EventRow & { partition: number }>(
    `SELECT ${eventColumns('e')}, c.partition
     FROM strata_events e
     JOIN unnest($1::integer[], $2::text[], $3::bigint[]) AS c(partition, transaction_id, position)
       ON c.partition = ${partitionExpression('e', '$7::integer')}
      AND (e.transaction_id, e.position) > (c.transaction_id::xid8, c.position)
     WHERE (e.transaction_id, e.position) > ($4::text::xid8, $5::bigint)
       -- The no-skip rule: never pass a transaction that may still commit.
       AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ${group.tenant === undefined ? '' : 'AND e.tenant = $8'}
     ORDER BY e.transaction_id, e.position
     LIMIT $6`,
    params,
  );
  return rows.map((row) => ({ partition: Number(row.partition), event: toStoredEvent(row) }));
}

/**
 * The parameters of a scan from partition checkpoints: $1-$3 the checkpoints (partition,
 * transaction id, position), $4-$5 the earliest of them, $6 `limit`, $7 the partition count, $8
 * the tenant when the group has one. The earliest checkpoint bounds the scan, so the global-order
 * index does the work. `checkpoints` must not be empty.
 */
export function checkpointScanParams(
  group: ConsumerGroup,
  checkpoints: readonly { partition: number; cursor: GlobalCursor }[],
  limit: number,
): unknown[] {
  const earliest = checkpoints
    .map((checkpoint) => checkpoint.cursor)
    .reduce((a, b) => (compareGlobalCursors(a, b) <= 0 ? a : b));
  const params: unknown[] = [
    checkpoints.map((checkpoint) => checkpoint.partition),
    checkpoints.map((checkpoint) => checkpoint.cursor.transactionId),
    checkpoints.map((checkpoint) => checkpoint.cursor.position),
    earliest.transactionId,
    earliest.position,
    limit,
    group.partitions,
  ];
  if (group.tenant !== undefined) params.push(group.tenant);
  return params;
}
