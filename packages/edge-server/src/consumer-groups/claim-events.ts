/** Claiming: a consumer's turn to take its share of the partitions and their next events. */

import { ValidationFailedError } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import { encodeGlobalCursor } from '../postgres/global-cursor.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import { type ConsumerGroup, DEFAULT_CONSUMER_LEASE_MS } from './consumer-group-definition.ts';
import { touchMembership } from './consumer-membership.ts';
import { readPartitions } from './read-partitions.ts';
import { validateConsumer } from './validate-consumer.ts';

/** A partition's events handed to one consumer, in order. */
export interface ClaimedPartition {
  readonly partition: number;
  /** The partition's checkpoint: ack and nack quote it, so a stale consumer's call is refused. */
  readonly from: string;
  /** Ack up to here once every event is handled (the cursor of the last event read). */
  readonly until: string;
  /** Failed attempts so far at the first event (0 unless it is being retried). */
  readonly attempts: number;
  readonly events: readonly PostgresStoredEvent[];
}

/** A parked event an operator queued for another try. */
export interface QueuedReplay {
  readonly parkedId: string;
  readonly partition: number;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly event: PostgresStoredEvent;
}

/** What one claim hands a consumer. */
export interface Claim {
  readonly consumerId: string;
  /** Partitions the consumer holds now, with or without events. */
  readonly owned: readonly number[];
  /** Partitions with events waiting, each in the partition's order. */
  readonly partitions: readonly ClaimedPartition[];
  readonly replays: readonly QueuedReplay[];
}

/** Options of `claimEvents`. */
export interface ClaimOptions {
  readonly consumerId: string;
  /** Most events per claim, over all partitions. Defaults to 100. */
  readonly limit?: number;
  /** Lease on the partitions and on the membership. Defaults to {@link DEFAULT_CONSUMER_LEASE_MS}. */
  readonly leaseMs?: number;
}

/**
 * One consumer's turn: renews its membership, rebalances (keeps at most its fair share
 * `ceil(partitions / live consumers)`, gives extras back, takes free or expired partitions up to
 * it), then reads the next events of every partition it holds that is not waiting for a retry,
 * after each partition's checkpoint, in the no-skip global order. Replays queued by an operator
 * come along, decrypted (`decryptStoredEvents`). A claim is a batch boundary: it assumes the consumer finished its previous claim.
 *
 * @example
 * const claim = await claimEvents(db, group, { consumerId: 'worker-1', limit: 100 });
 */
export async function claimEvents(
  db: SqlDatabase,
  group: ConsumerGroup,
  options: ClaimOptions,
): Promise<Claim> {
  const { consumerId } = options;
  const limit = options.limit ?? 100;
  const leaseMs = options.leaseMs ?? DEFAULT_CONSUMER_LEASE_MS;
  validateConsumer(consumerId, leaseMs);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationFailedError('limit must be a positive integer', [
      { path: ['limit'], message: 'must be a positive integer' },
    ]);
  }

  const { held, replayRows } = await db.transaction(async (tx) => {
    await touchMembership(tx, group, consumerId, leaseMs);
    // Claims of one group take turns here, so two consumers never take the same partition.
    const { rows: partitions } = await tx.query<{
      partition: number;
      owner: string | null;
      leased: boolean;
    }>(
      `SELECT partition, owner, coalesce(lease_until > now(), false) AS leased
       FROM strata_consumer_group_partitions WHERE group_id = $1
       ORDER BY partition FOR UPDATE`,
      [group.id],
    );
    await tx.query(
      'DELETE FROM strata_consumer_group_members WHERE group_id = $1 AND expires_at < now()',
      [group.id],
    );
    const { rows: live } = await tx.query<{ count: string | number }>(
      'SELECT count(*) AS count FROM strata_consumer_group_members WHERE group_id = $1',
      [group.id],
    );
    const share = Math.ceil(group.partitions / Math.max(1, Number(live[0]?.count ?? 1)));
    // Still ours even if the lease ran out: nobody took it, and the checkpoint guards acks.
    const mine = partitions.filter((row) => row.owner === consumerId).map((row) => row.partition);
    const free = partitions
      .filter((row) => row.owner !== consumerId && (row.owner === null || !row.leased))
      .map((row) => row.partition);
    const keep = [...mine.slice(0, share), ...free.slice(0, Math.max(0, share - mine.length))];
    const release = mine.slice(share);
    if (release.length > 0) {
      await tx.query(
        `UPDATE strata_consumer_group_partitions SET owner = NULL, lease_until = NULL
         WHERE group_id = $1 AND partition = ANY($2::integer[]) AND owner = $3`,
        [group.id, release, consumerId],
      );
    }
    const { rows: held } = await tx.query<{
      partition: number;
      checkpoint_transaction_id: string;
      checkpoint_position: string | number;
      attempts: number;
      ready: boolean;
    }>(
      `UPDATE strata_consumer_group_partitions
       SET owner = $3, lease_until = now() + $4 * interval '1 millisecond'
       WHERE group_id = $1 AND partition = ANY($2::integer[])
       RETURNING partition, checkpoint_transaction_id::text AS checkpoint_transaction_id,
         checkpoint_position, attempts, coalesce(retry_at <= now(), true) AS ready`,
      [group.id, keep, consumerId, leaseMs],
    );
    const { rows: replayRows } = await tx.query<{
      id: string;
      partition: number;
      attempts: number;
      event_position: string | number;
    }>(
      `UPDATE strata_consumer_group_parked SET owner = $2,
         lease_until = now() + $3 * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM strata_consumer_group_parked
         WHERE group_id = $1 AND state = 'queued'
           AND (owner IS NULL OR owner = $2 OR lease_until < now())
         ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, partition, attempts, event_position`,
      [group.id, consumerId, leaseMs, limit],
    );
    return { held: held.sort((a, b) => a.partition - b.partition), replayRows };
  });

  const checkpoints = held
    .filter((row) => row.ready)
    .map((row) => ({
      partition: row.partition,
      attempts: row.attempts,
      cursor: {
        transactionId: row.checkpoint_transaction_id,
        position: Number(row.checkpoint_position),
      },
    }));
  const read = await readPartitions(db, group, checkpoints, limit);
  const replayEvents = await storedEventsAt(
    db,
    replayRows.map((row) => Number(row.event_position)),
  );
  // Right before events leave the store: a forgotten aggregate's payload never does.
  const decrypted = await decryptStoredEvents(db, [
    ...read.map(({ event }) => event),
    ...replayEvents.values(),
  ]);
  const events = read.map(({ partition }, index) => ({
    partition,
    event: decrypted[index] as PostgresStoredEvent,
  }));
  const replayByPosition = new Map(
    decrypted.slice(read.length).map((event) => [event.position, event]),
  );
  const partitions: ClaimedPartition[] = [];
  for (const checkpoint of checkpoints) {
    const own = events.filter((event) => event.partition === checkpoint.partition);
    const last = own.at(-1);
    if (last === undefined) continue;
    partitions.push({
      partition: checkpoint.partition,
      from: encodeGlobalCursor(checkpoint.cursor),
      until: last.event.cursor,
      attempts: checkpoint.attempts,
      events: own.map(({ event }) => event),
    });
  }
  return {
    consumerId,
    owned: held.map((row) => row.partition),
    partitions,
    replays: replayRows.flatMap((row) => {
      const event = replayByPosition.get(Number(row.event_position));
      return event === undefined
        ? []
        : [{ parkedId: row.id, partition: row.partition, attempts: row.attempts, event }];
    }),
  };
}

/** Stored events by position. */
export async function storedEventsAt(
  db: SqlExecutor,
  positions: readonly number[],
): Promise<Map<number, PostgresStoredEvent>> {
  if (positions.length === 0) return new Map();
  const { rows } = await db.query<EventRow>(
    `SELECT ${eventColumns('e')} FROM strata_events e WHERE e.position = ANY($1::bigint[])`,
    [positions],
  );
  return new Map(rows.map((row) => [Number(row.position), toStoredEvent(row)]));
}
