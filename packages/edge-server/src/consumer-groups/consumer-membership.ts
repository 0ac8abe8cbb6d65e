/** Membership: keeping a consumer's leases alive, and leaving the group. */
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import { type ConsumerGroup, DEFAULT_CONSUMER_LEASE_MS } from './consumer-group-definition.ts';
import { validateConsumer } from './validate-consumer.ts';

/** Records that the consumer is alive in the group until the lease ends (joining it if new). */
export async function touchMembership(
  tx: SqlExecutor,
  group: ConsumerGroup,
  consumerId: string,
  leaseMs: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO strata_consumer_group_members (group_id, consumer_id, expires_at)
     VALUES ($1, $2, now() + $3 * interval '1 millisecond')
     ON CONFLICT (group_id, consumer_id) DO UPDATE SET expires_at = excluded.expires_at`,
    [group.id, consumerId, leaseMs],
  );
}

/**
 * Keeps a busy consumer's membership and leases alive between claims (a long batch must not
 * look like a crash). Returns the partitions it still holds.
 */
export async function renewLeases(
  db: SqlDatabase,
  group: ConsumerGroup,
  consumerId: string,
  leaseMs = DEFAULT_CONSUMER_LEASE_MS,
): Promise<number[]> {
  validateConsumer(consumerId, leaseMs);
  return db.transaction(async (tx) => {
    await touchMembership(tx, group, consumerId, leaseMs);
    await tx.query(
      `UPDATE strata_consumer_group_parked SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE group_id = $1 AND owner = $2 AND state = 'queued'`,
      [group.id, consumerId, leaseMs],
    );
    const { rows } = await tx.query<{ partition: number }>(
      // Locked in partition order, as claims lock them: two statements never wait on each other
      // in a circle (a deadlock).
      `UPDATE strata_consumer_group_partitions SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE group_id = $1 AND partition IN (
         SELECT partition FROM strata_consumer_group_partitions
         WHERE group_id = $1 AND owner = $2 ORDER BY partition FOR UPDATE)
       RETURNING partition`,
      [group.id, consumerId, leaseMs],
    );
    return rows.map((row) => Number(row.partition)).sort((a, b) => a - b);
  });
}

/** A consumer stops: its partitions and replays are free for the others at once. */
export async function leaveConsumerGroup(
  db: SqlDatabase,
  group: ConsumerGroup,
  consumerId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      'DELETE FROM strata_consumer_group_members WHERE group_id = $1 AND consumer_id = $2',
      [group.id, consumerId],
    );
    await tx.query(
      `UPDATE strata_consumer_group_partitions SET owner = NULL, lease_until = NULL
       WHERE group_id = $1 AND owner = $2`,
      [group.id, consumerId],
    );
    await tx.query(
      `UPDATE strata_consumer_group_parked SET owner = NULL, lease_until = NULL
       WHERE group_id = $1 AND owner = $2`,
      [group.id, consumerId],
    );
  });
}
