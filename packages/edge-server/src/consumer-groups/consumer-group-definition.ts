/**
 * The consumer-group state machine in Postgres, shared by the server-side consumer
 * (`createConsumerGroup`) and the HTTP routes: claim partitions and their next events, ack,
 * nack (retry, then park), heartbeat, leave. Every transition is one short transaction whose
 * conditions (owner, checkpoint) make a stale or crashed consumer's late calls harmless.
 */
import { type BackoffOptions, NotFoundError, ValidationFailedError } from '@strata/core';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';

/** Names a group: server-side groups may span every tenant; HTTP groups live in one tenant. */
export interface ConsumerGroupRef {
  readonly name: string;
  /** Only this tenant's events; every tenant's when absent. */
  readonly tenant?: string;
}

/** What is fixed when a group is created (later calls with other values keep the stored ones). */
export interface ConsumerGroupSettings {
  /** How many ways the events are split, by aggregate: the most consumers that can share work. */
  readonly partitions: number;
  /** Attempts in all (the first delivery included) before the event is parked. */
  readonly maxAttempts: number;
  /**
   * The wait before the second attempt (`initialDelayMs`), doubling for each further one up to
   * `maxDelayMs`; never jittered (see `decideConsumerRetry`). Stored as `retry_base_ms` and
   * `retry_max_ms`.
   */
  readonly backoff: Required<Omit<BackoffOptions, 'jitter'>>;
}

/** Settings as asked for: each one left out defaults as `DEFAULT_CONSUMER_GROUP_SETTINGS` says. */
export interface ConsumerGroupSettingsOptions {
  readonly partitions?: number;
  readonly maxAttempts?: number;
  readonly backoff?: Omit<BackoffOptions, 'jitter'>;
}

/**
 * Sixteen partitions; five attempts, 100 ms, 200 ms, 400 ms and 800 ms apart (about 1.5 s before
 * an event is parked), no wait longer than 30 s.
 */
export const DEFAULT_CONSUMER_GROUP_SETTINGS: ConsumerGroupSettings = {
  partitions: 16,
  maxAttempts: 5,
  backoff: { initialDelayMs: 100, maxDelayMs: 30_000 },
};

/** Thirty seconds: how long a silent consumer keeps its partitions before others take them. */
export const DEFAULT_CONSUMER_LEASE_MS = 30_000;

/** A group as stored. */
export interface ConsumerGroup extends ConsumerGroupSettings {
  readonly id: string;
  readonly name: string;
  readonly tenant: string | undefined;
}

interface GroupRow {
  id: string;
  tenant: string | null;
  name: string;
  partitions: number;
  max_attempts: number;
  retry_base_ms: number;
  retry_max_ms: number;
}

const GROUP_COLUMNS =
  'id::text AS id, tenant, name, partitions, max_attempts, retry_base_ms, retry_max_ms';

/**
 * The partition of an event, computed in the database so reads filter there: a hash of the
 * tenant and the aggregate, so one aggregate's events always land in one partition (and keep
 * their order). `$partitions` is the parameter holding the group's partition count.
 */
export function partitionExpression(alias: string, partitionsParam: string): string {
  const key = `${alias}.tenant || '/' || ${alias}.aggregate_type || '/' || ${alias}.aggregate_id`;
  return `(((hashtextextended(${key}, 0) % ${partitionsParam}) + ${partitionsParam}) % ${partitionsParam})::integer`;
}

/**
 * Creates the group (and its partitions, at the start of the global order) unless it exists;
 * returns it as stored. Settings only apply at creation.
 *
 * @example
 * const group = await ensureConsumerGroup(db, { name: 'emails' }, { partitions: 8 });
 */
export async function ensureConsumerGroup(
  db: SqlDatabase,
  ref: ConsumerGroupRef,
  settings: ConsumerGroupSettingsOptions = {},
): Promise<ConsumerGroup> {
  const wanted: ConsumerGroupSettings = {
    partitions: settings.partitions ?? DEFAULT_CONSUMER_GROUP_SETTINGS.partitions,
    maxAttempts: settings.maxAttempts ?? DEFAULT_CONSUMER_GROUP_SETTINGS.maxAttempts,
    backoff: {
      initialDelayMs:
        settings.backoff?.initialDelayMs ?? DEFAULT_CONSUMER_GROUP_SETTINGS.backoff.initialDelayMs,
      maxDelayMs:
        settings.backoff?.maxDelayMs ?? DEFAULT_CONSUMER_GROUP_SETTINGS.backoff.maxDelayMs,
    },
  };
  validateSettings(wanted);
  const existing = await findConsumerGroup(db, ref);
  if (existing !== undefined) return existing;
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO strata_consumer_groups
         (tenant, name, partitions, max_attempts, retry_base_ms, retry_max_ms)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING
       RETURNING id::text AS id`,
      [
        ref.tenant ?? null,
        ref.name,
        wanted.partitions,
        wanted.maxAttempts,
        wanted.backoff.initialDelayMs,
        wanted.backoff.maxDelayMs,
      ],
    );
    const id = rows[0]?.id;
    if (id === undefined) return; // created at the same time by another instance
    await tx.query(
      `INSERT INTO strata_consumer_group_partitions (group_id, partition)
       SELECT $1::bigint, generate_series(0, $2::integer - 1)`,
      [id, wanted.partitions],
    );
  });
  const created = await findConsumerGroup(db, ref);
  if (created === undefined) throw new Error(`Consumer group ${ref.name} vanished on creation`);
  return created;
}

/** The group as stored, or undefined. */
export async function findConsumerGroup(
  db: SqlExecutor,
  ref: ConsumerGroupRef,
): Promise<ConsumerGroup | undefined> {
  const { rows } = await db.query<GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM strata_consumer_groups
     WHERE name = $1 AND tenant IS NOT DISTINCT FROM $2::text`,
    [ref.name, ref.tenant ?? null],
  );
  const row = rows[0];
  return row === undefined ? undefined : toGroup(row);
}

/** The group, or `NOT_FOUND`. */
export async function getConsumerGroup(
  db: SqlExecutor,
  ref: ConsumerGroupRef,
): Promise<ConsumerGroup> {
  const group = await findConsumerGroup(db, ref);
  if (group === undefined) throw new NotFoundError(`No consumer group ${ref.name}`);
  return group;
}

function toGroup(row: GroupRow): ConsumerGroup {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant ?? undefined,
    partitions: row.partitions,
    maxAttempts: row.max_attempts,
    backoff: { initialDelayMs: row.retry_base_ms, maxDelayMs: row.retry_max_ms },
  };
}

function validateSettings(settings: ConsumerGroupSettings): void {
  const checks: [string[], number, number, number][] = [
    [['partitions'], settings.partitions, 1, 1024],
    [['maxAttempts'], settings.maxAttempts, 1, 1000],
    [['backoff', 'initialDelayMs'], settings.backoff.initialDelayMs, 0, 86_400_000],
    [['backoff', 'maxDelayMs'], settings.backoff.maxDelayMs, 0, 86_400_000],
  ];
  for (const [path, value, min, max] of checks) {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ValidationFailedError(
        `${path.join('.')} must be a whole number from ${min} to ${max}`,
        [{ path, message: `must be a whole number from ${min} to ${max}` }],
      );
    }
  }
}
