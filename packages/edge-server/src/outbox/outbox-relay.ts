import { createBackgroundLoop } from '../background/background-loop.ts';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { describeError } from '../logging/describe-error.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-event-store.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { OutboxMessage, OutboxSink } from './outbox-sink.ts';
import { type RetryBackoffOptions, retryDelay } from './retry-backoff.ts';

/** Options of `createOutboxRelay`; every one but `database` and `sinks` has a default. */
export interface OutboxRelayOptions {
  /** Where the outbox is: any `SqlDatabase` (Neon pool, PGlite), or a plain executor. */
  readonly database: SqlExecutor;
  /**
   * A sink per destination. The relay claims only the destinations it has a sink for, so relays
   * with different sinks can share one outbox.
   */
  readonly sinks: Readonly<Record<string, OutboxSink>>;
  /** Names this relay in `locked_by` (with a claim counter). Default: a random UUID. */
  readonly relayId?: string;
  /** Messages claimed, and delivered concurrently, per round. Default 50. */
  readonly batchSize?: number;
  /** Attempts before a message turns dead (a dead letter). Default 10. */
  readonly maxAttempts?: number;
  /**
   * How long a claim is exclusive. A relay that dies holding a claim delays its messages by up to
   * this much; then any relay redelivers them. Default 30,000 ms.
   */
  readonly leaseMs?: number;
  /**
   * How long a round's deliveries may run, counted from before the claim; deliveries still
   * running are aborted and count as failed. Must be below `leaseMs`, so that no delivery
   * outlives the lease and overlaps a redelivery by another relay. Default: half of `leaseMs`.
   */
  readonly deliveryTimeoutMs?: number;
  /** Pause of `start()`'s loop after a round that found less than a full batch. Default 1,000 ms. */
  readonly pollIntervalMs?: number;
  /** Backoff between a failed attempt and the next (see `retryDelay`). */
  readonly backoff?: RetryBackoffOptions;
  /**
   * Told about failed deliveries (with the message) and failed rounds (database errors: the loop
   * goes on). Default: `console.error`.
   */
  readonly onError?: (error: unknown, message?: OutboxMessage) => void;
}

/** Defaults of `createOutboxRelay`. */
export const OUTBOX_RELAY_DEFAULTS = {
  batchSize: 50,
  maxAttempts: 10,
  leaseMs: 30_000,
  pollIntervalMs: 1_000,
} as const;

/** What one round did. */
export interface OutboxRelayRound {
  readonly claimed: number;
  /** Acknowledged by their sink. */
  readonly delivered: number;
  /** Failed and scheduled for another attempt. */
  readonly retrying: number;
  /** Failed for the last time, and those whose lease expired after their last attempt. */
  readonly dead: number;
  /**
   * Settled too late: the lease had expired and another relay had claimed the message. Their
   * outcome is not recorded; the other claim's is.
   */
  readonly lost: number;
}

/** Delivers the outbox; see `createOutboxRelay`. */
export interface OutboxRelay {
  readonly relayId: string;
  /** One round: claim a batch, deliver it, record the outcomes. Handy in tests and cron jobs. */
  runOnce(): Promise<OutboxRelayRound>;
  /** Runs rounds until `stop()`: back to back while batches come full, else every poll interval. */
  start(): void;
  /** Stops the loop; resolves once every delivery in flight has settled and been recorded. */
  stop(): Promise<void>;
}

/**
 * Why a delivery was aborted: it ran past the relay's `deliveryTimeoutMs`. The abort reason of
 * the sink's signal, and the failed attempt's `last_error`.
 *
 * @example
 * const sink: OutboxSink = async (message, { signal }) => {
 *   signal.addEventListener('abort', () => {
 *     if (signal.reason instanceof OutboxDeliveryTimeoutError) metrics.increment('outbox.timeouts');
 *   });
 *   await deliverSomewhere(message, signal);
 * };
 */
export class OutboxDeliveryTimeoutError extends Error {
  override readonly name = 'OutboxDeliveryTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`Delivery did not settle within ${timeoutMs} ms`);
  }
}

interface ClaimedRow {
  id: string | number;
  destination: string;
  tenant: string;
  event: PostgresStoredEvent;
  attempts: number;
  exhausted: boolean;
}

const MAX_ERROR_LENGTH = 2_000;

/**
 * The outbox relay: delivers the rows `outboxWriter` recorded to each destination's sink, at
 * least once. A round claims due messages with `FOR UPDATE SKIP LOCKED` and a lease, so relays
 * running at once (threads of one server, several servers) never claim the same message; it
 * delivers the batch concurrently, aborting deliveries before the lease ends; then it records
 * every outcome in one statement, only where its claim still holds: delivered; failed (retried
 * after a jittered exponential backoff); or dead after `maxAttempts` (see `listDeadLetters`,
 * `replayDeadLetters`). A relay that dies mid-delivery leaves its claim to expire, and the
 * message is delivered again: sinks deduplicate on `message.id`.
 *
 * @example
 * const relay = createOutboxRelay({
 *   database: neonDatabase(pool),
 *   sinks: { 'billing-webhook': webhookSink({ url: BILLING_URL, secret: BILLING_SECRET }) },
 * });
 * relay.start();
 * // at shutdown:
 * await relay.stop();
 */
/** A failed delivery: why, and whether the sink may still be running (it timed out). */
interface DeliveryFailure {
  readonly error: string;
  readonly timedOut: boolean;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const {
    database,
    sinks,
    relayId = crypto.randomUUID(),
    batchSize = OUTBOX_RELAY_DEFAULTS.batchSize,
    maxAttempts = OUTBOX_RELAY_DEFAULTS.maxAttempts,
    leaseMs = OUTBOX_RELAY_DEFAULTS.leaseMs,
    pollIntervalMs = OUTBOX_RELAY_DEFAULTS.pollIntervalMs,
    backoff = {},
    onError = (error: unknown, message?: OutboxMessage) =>
      console.error(
        `${message === undefined ? '[strata outbox relay]' : `[strata outbox relay] ${message.destination} #${message.id}`}: ${describeError(error)}`,
      ),
  } = options;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? Math.floor(leaseMs / 2);
  const positiveInteger = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
    }
  };
  positiveInteger('batchSize', batchSize);
  positiveInteger('maxAttempts', maxAttempts);
  positiveInteger('leaseMs', leaseMs);
  positiveInteger('deliveryTimeoutMs', deliveryTimeoutMs);
  if (deliveryTimeoutMs >= leaseMs) {
    throw new RangeError(
      `deliveryTimeoutMs (${deliveryTimeoutMs}) must be below leaseMs (${leaseMs}): a delivery outliving its lease may overlap a redelivery`,
    );
  }
  const destinations = Object.keys(sinks);
  if (destinations.length === 0) throw new RangeError('An outbox relay needs at least one sink');

  let claims = 0;
  const rounds = new Set<Promise<unknown>>();

  async function claim(token: string): Promise<ClaimedRow[]> {
    // A due message with no attempt left (its last claim expired: the relay died or stalled)
    // turns dead here rather than be delivered again: a message that crashes every relay it
    // reaches must not do so forever. Same statement, same SKIP LOCKED: no extra scan.
    const { rows } = await database.query<ClaimedRow>(
      `WITH due AS (
         SELECT id FROM strata_outbox
         WHERE status = 'pending' AND next_attempt_at <= now()
           AND (locked_until IS NULL OR locked_until <= now())
           AND destination = ANY($4::text[])
         ORDER BY next_attempt_at, id
         LIMIT $5
         FOR UPDATE SKIP LOCKED
       )
       UPDATE strata_outbox AS o
       SET status = CASE WHEN o.attempts >= $3 THEN 'dead' ELSE 'pending' END,
           locked_by = CASE WHEN o.attempts >= $3 THEN NULL ELSE $1 END,
           locked_until = CASE WHEN o.attempts >= $3 THEN NULL
                               ELSE now() + $2::double precision * interval '1 millisecond' END,
           attempts = CASE WHEN o.attempts >= $3 THEN o.attempts ELSE o.attempts + 1 END,
           last_error = CASE WHEN o.attempts < $3 OR o.locked_until IS NULL THEN o.last_error
             ELSE 'Lease expired on the last attempt (the relay died or stalled); last error: '
               || coalesce(o.last_error, 'none') END,
           updated_at = now()
       FROM due WHERE o.id = due.id
       RETURNING o.id, o.destination, o.tenant, o.event, o.attempts, o.status = 'dead' AS exhausted`,
      [token, leaseMs, maxAttempts, destinations, batchSize],
    );
    return rows;
  }

  async function deliver(
    message: OutboxMessage,
    signal: AbortSignal,
  ): Promise<DeliveryFailure | null> {
    const sink = sinks[message.destination];
    try {
      if (sink === undefined) throw new Error(`No sink for destination ${message.destination}`);
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        // A sink that ignores the signal is not waited for: its outcome would come after the
        // lease, when another relay may own the message.
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        Promise.resolve()
          .then(() => sink(message, { signal }))
          .then(resolve, reject);
      });
      return null;
    } catch (error) {
      onError(error, message);
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { error: text.slice(0, MAX_ERROR_LENGTH), timedOut: error === signal.reason };
    }
  }

  async function round(): Promise<OutboxRelayRound> {
    claims += 1;
    const token = `${relayId}#${claims}`;
    // One controller per delivery, not one signal for the batch: a sink (fetch) adds listeners
    // to its signal, and a hundred on one signal is a leak warning in Node.
    const controllers: AbortController[] = [];
    let expired = false;
    // Counted from before the claim, which starts the lease on the database's clock: the
    // deliveries end before the lease does, however long the claim's round trip took.
    const timer = setTimeout(() => {
      expired = true;
      for (const controller of controllers) {
        controller.abort(new OutboxDeliveryTimeoutError(deliveryTimeoutMs));
      }
    }, deliveryTimeoutMs);
    const deliverySignal = () => {
      const controller = new AbortController();
      if (expired) controller.abort(new OutboxDeliveryTimeoutError(deliveryTimeoutMs));
      controllers.push(controller);
      return controller.signal;
    };
    try {
      const rows = await claim(token);
      const claimed = rows.filter((row) => !row.exhausted);
      const exhausted = rows.length - claimed.length;
      if (claimed.length === 0) {
        return { claimed: 0, delivered: 0, retrying: 0, dead: exhausted, lost: 0 };
      }
      const events = await decryptStoredEvents(
        database,
        claimed.map((row) => row.event),
      );
      const errors = await Promise.all(
        claimed.map((row, index) =>
          deliver(
            {
              id: String(row.id),
              destination: row.destination,
              tenant: row.tenant,
              event: events[index] as PostgresStoredEvent,
              attempt: row.attempts,
            },
            deliverySignal(),
          ),
        ),
      );
      const acked: string[] = [];
      const failed: { id: string[]; error: string[]; delayMs: number[]; held: boolean[] } = {
        id: [],
        error: [],
        delayMs: [],
        held: [],
      };
      claimed.forEach((row, index) => {
        const failure = errors[index];
        if (failure === null || failure === undefined) {
          acked.push(String(row.id));
          return;
        }
        failed.id.push(String(row.id));
        failed.error.push(failure.error);
        failed.delayMs.push(retryDelay(row.attempts, backoff));
        failed.held.push(failure.timedOut);
      });
      // Every outcome in one statement, counted there: a round trip per batch, not per message.
      // Only under this claim: after the lease, another relay's claim decides.
      const { rows: settled } = await database.query<{ status: string; count: number }>(
        `WITH acked AS (
           UPDATE strata_outbox
           SET status = 'delivered', delivered_at = now(), locked_by = NULL, locked_until = NULL,
               updated_at = now()
           WHERE id = ANY($1::bigint[]) AND locked_by = $5 AND status = 'pending'
           RETURNING status
         ),
         failed AS (
           UPDATE strata_outbox AS o
           SET status = CASE WHEN o.attempts >= $4 THEN 'dead' ELSE 'pending' END,
               -- A sink that timed out may still be running (it ignored its signal): no other
               -- claim before this one's lease ends, so the message never runs twice at once.
               next_attempt_at = CASE
                 WHEN f.held THEN greatest(now() + f.delay_ms * interval '1 millisecond', o.locked_until)
                 ELSE now() + f.delay_ms * interval '1 millisecond' END,
               last_error = f.error, locked_by = NULL, locked_until = NULL, updated_at = now()
           FROM unnest($2::bigint[], $3::text[], $6::double precision[], $7::boolean[])
             AS f (id, error, delay_ms, held)
           WHERE o.id = f.id AND o.locked_by = $5 AND o.status = 'pending'
           RETURNING o.status
         )
         SELECT status, count(*)::integer AS count
         FROM (SELECT status FROM acked UNION ALL SELECT status FROM failed) AS settled
         GROUP BY status`,
        [acked, failed.id, failed.error, maxAttempts, token, failed.delayMs, failed.held],
      );
      const count = (status: string) =>
        Number(settled.find((row) => row.status === status)?.count ?? 0);
      const recorded = count('delivered') + count('pending') + count('dead');
      return {
        claimed: claimed.length,
        delivered: count('delivered'),
        retrying: count('pending'),
        dead: count('dead') + exhausted,
        lost: claimed.length - recorded,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  function runOnce(): Promise<OutboxRelayRound> {
    const running = round();
    rounds.add(running);
    const forget = () => rounds.delete(running);
    running.then(forget, forget);
    return running;
  }

  const loop = createBackgroundLoop({
    round: async () => (await runOnce()).claimed === batchSize,
    idleMs: pollIntervalMs,
    onError: (error) => onError(error),
  });

  return {
    relayId,
    runOnce,
    start: () => loop.start(),
    async stop() {
      await loop.stop();
      await Promise.allSettled([...rounds]);
    },
  };
}
