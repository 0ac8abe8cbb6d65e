/**
 * Backlogs read from the database at scrape time, each with work bounded whatever the data:
 * counts stop at a limit (a count at its limit means "at least"), the consumer groups looked at
 * are a bounded number, each scanned over a bounded number of events. Only totals come out:
 * outbox destinations, consumer-group names and tenants may be chosen by tenants, so none of them
 * is ever a label.
 */
import { partitionExpression } from '../consumer-groups/consumer-group-definition.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/** How much a scrape may read to count backlogs. */
export interface BacklogLimits {
  /** Most outbox rows counted per status (`pending`, `dead`). Defaults to 10,000. */
  readonly outboxCountLimit: number;
  /** Most consumer groups whose backlog is counted (the oldest ones). Defaults to 100. */
  readonly consumerGroupLimit: number;
  /** Most events read per consumer group to count its backlog. Defaults to 1,000. */
  readonly consumerGroupScanLimit: number;
  /** Most parked consumer-group events counted per state. Defaults to 10,000. */
  readonly parkedCountLimit: number;
}

/** 10,000 outbox rows per status, 100 groups of 1,000 events each, 10,000 parked events. */
export const DEFAULT_BACKLOG_LIMITS: BacklogLimits = {
  outboxCountLimit: 10_000,
  consumerGroupLimit: 100,
  consumerGroupScanLimit: 1_000,
  parkedCountLimit: 10_000,
};

/** Outbox rows not yet relayed (`pending`) and out of attempts (`dead`), each up to the limit. */
export interface OutboxBacklog {
  readonly pending: number;
  readonly dead: number;
  /** False when a count reached its limit. */
  readonly exact: boolean;
}

/**
 * Counts through the outbox's partial indexes on `status = 'pending'` and `'dead'`: delivered
 * rows, the bulk over time, are not read.
 */
export async function readOutboxBacklog(
  db: SqlExecutor,
  limits: Pick<BacklogLimits, 'outboxCountLimit'>,
): Promise<OutboxBacklog> {
  const { rows } = await db.query<{ pending: string | number; dead: string | number }>(
    `SELECT
       (SELECT count(*) FROM (SELECT 1 FROM strata_outbox WHERE status = 'pending' LIMIT $1) p) AS pending,
       (SELECT count(*) FROM (SELECT 1 FROM strata_outbox WHERE status = 'dead' LIMIT $1) d) AS dead`,
    [limits.outboxCountLimit],
  );
  const pending = Number(rows[0]?.pending ?? 0);
  const dead = Number(rows[0]?.dead ?? 0);
  return {
    pending,
    dead,
    exact: pending < limits.outboxCountLimit && dead < limits.outboxCountLimit,
  };
}

/** All consumer groups' backlog as totals. */
export interface ConsumerGroupBacklog {
  /** Consumer groups (server-side and tenants'). */
  readonly groups: number;
  /** Events readers may serve that the groups' partitions have not acked, summed. */
  readonly events: number;
  /** The largest backlog of one group. */
  readonly maxEvents: number;
  readonly parked: number;
  /** Parked events queued for replay. */
  readonly queued: number;
  /** False when a group was not counted, or counted as "at least" (a limit was reached). */
  readonly exact: boolean;
}

/**
 * The groups' backlog in one statement: per group (the oldest `consumerGroupLimit`), the first
 * `consumerGroupScanLimit` servable events after its earliest checkpoint, each counted when it
 * lies after its own partition's checkpoint (as `consumerGroupStatus` counts lag). A tenant's
 * group reads through the (tenant, transaction_id, position) index, a server-side group through
 * (transaction_id, position): each scan stops at its limit.
 */
export async function readConsumerGroupBacklog(
  db: SqlExecutor,
  limits: Pick<BacklogLimits, 'consumerGroupLimit' | 'consumerGroupScanLimit' | 'parkedCountLimit'>,
): Promise<ConsumerGroupBacklog> {
  const partition = partitionExpression('e', 'g.partitions');
  const scanned = (tenantFilter: string) => `
    SELECT e.transaction_id, e.position, ${partition} AS partition
    FROM strata_events e
    WHERE ${tenantFilter}
      AND (e.transaction_id, e.position) > (earliest.transaction_id, earliest.position)
      -- The no-skip rule: what readers may serve now.
      AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id, e.position
    LIMIT $2`;
  const { rows } = await db.query<{
    groups: string | number;
    counted: string | number;
    events: string | number | null;
    max_events: string | number | null;
    capped: string | number;
    parked: string | number;
    queued: string | number;
  }>(
    `WITH g AS (
       SELECT id, tenant, partitions FROM strata_consumer_groups ORDER BY id LIMIT $1
     ),
     backlog AS (
       SELECT count(s.partition) AS scanned, count(c.partition) AS events
       FROM g
       CROSS JOIN LATERAL (
         SELECT p.checkpoint_transaction_id AS transaction_id, p.checkpoint_position AS position
         FROM strata_consumer_group_partitions p
         WHERE p.group_id = g.id
         ORDER BY p.checkpoint_transaction_id, p.checkpoint_position
         LIMIT 1
       ) earliest
       LEFT JOIN LATERAL (
         (${scanned('g.tenant IS NOT NULL AND e.tenant = g.tenant')})
         UNION ALL
         (${scanned('g.tenant IS NULL')})
       ) s ON true
       LEFT JOIN strata_consumer_group_partitions c
         ON c.group_id = g.id AND c.partition = s.partition
        AND (s.transaction_id, s.position) > (c.checkpoint_transaction_id, c.checkpoint_position)
       GROUP BY g.id
     )
     SELECT
       (SELECT count(*) FROM strata_consumer_groups) AS groups,
       (SELECT count(*) FROM backlog) AS counted,
       (SELECT sum(events) FROM backlog) AS events,
       (SELECT max(events) FROM backlog) AS max_events,
       (SELECT count(*) FROM backlog WHERE scanned >= $2) AS capped,
       (SELECT count(*) FROM (SELECT 1 FROM strata_consumer_group_parked
          WHERE state = 'parked' LIMIT $3) x) AS parked,
       (SELECT count(*) FROM (SELECT 1 FROM strata_consumer_group_parked
          WHERE state = 'queued' LIMIT $3) y) AS queued`,
    [limits.consumerGroupLimit, limits.consumerGroupScanLimit, limits.parkedCountLimit],
  );
  const row = rows[0];
  const groups = Number(row?.groups ?? 0);
  const parked = Number(row?.parked ?? 0);
  const queued = Number(row?.queued ?? 0);
  return {
    groups,
    events: Number(row?.events ?? 0),
    maxEvents: Number(row?.max_events ?? 0),
    parked,
    queued,
    exact:
      Number(row?.counted ?? 0) >= groups &&
      Number(row?.capped ?? 0) === 0 &&
      parked < limits.parkedCountLimit &&
      queued < limits.parkedCountLimit,
  };
}

/**
 * Each tenant's last committed position (`strata_tenant_positions`, one primary-key lookup per
 * tenant): the head a whole-tenant subscriber is behind.
 */
export async function readTenantHeads(
  db: SqlExecutor,
  tenants: readonly string[],
): Promise<Map<string, number>> {
  if (tenants.length === 0) return new Map();
  const { rows } = await db.query<{ tenant: string; last: string | number }>(
    'SELECT tenant, last FROM strata_tenant_positions WHERE tenant = ANY($1::text[])',
    [tenants],
  );
  return new Map(rows.map((row) => [row.tenant, Number(row.last)]));
}
