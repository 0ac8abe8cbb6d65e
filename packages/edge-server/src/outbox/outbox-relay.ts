import type { BackoffOptions } from '@strata/core';
import { createBackgroundLoop } from '../background/background-loop.ts';
import { describeError } from '../logging/describe-error.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { claimOutboxBatch } from './claim-outbox-batch.ts';
import { deliverToSink } from './deliver-to-sink.ts';
import { startDeliveryDeadline } from './delivery-deadline.ts';
import type { OutboxMessage, OutboxSink } from './outbox-sink.ts';
import { planSettlement, recordSettlement, retryDelayAfter } from './settle-deliveries.ts';

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
  /**
   * Wait between a failed attempt and the next: `initialDelayMs` after the first, doubling up to
   * `maxDelayMs`, jittered as `jitter` says. Each field defaults as `OUTBOX_RELAY_DEFAULTS.backoff`
   * says: 1 s, 5 minutes, `equal` (between half and all of it: messages that failed together come
   * back apart, and the wait never collapses to zero).
   */
  readonly backoff?: BackoffOptions;
  /** Random number in [0, 1) for the jitter; injectable so tests are deterministic. Default `Math.random`. */
  readonly random?: () => number;
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
  backoff: { initialDelayMs: 1_000, maxDelayMs: 300_000, jitter: 'equal' },
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
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const settings = relaySettings(options);
  const { database, sinks, relayId, batchSize, maxAttempts, leaseMs, deliveryTimeoutMs } = settings;
  const destinations = Object.keys(sinks);
  let claims = 0;
  const rounds = new Set<Promise<unknown>>();

  async function round(): Promise<OutboxRelayRound> {
    claims += 1;
    const token = `${relayId}#${claims}`;
    // Counted from before the claim, which starts the lease on the database's clock: the
    // deliveries end before the lease does, however long the claim's round trip took.
    const deadline = startDeliveryDeadline(
      deliveryTimeoutMs,
      () => new OutboxDeliveryTimeoutError(deliveryTimeoutMs),
    );
    try {
      const claim = { token, leaseMs, maxAttempts, destinations, batchSize };
      const { messages, exhausted } = await claimOutboxBatch(database, claim);
      if (messages.length === 0) {
        return { claimed: 0, delivered: 0, retrying: 0, dead: exhausted, lost: 0 };
      }
      const failures = await Promise.all(
        messages.map((message) =>
          deliverToSink(sinks[message.destination], message, deadline.signal(), settings.onError),
        ),
      );
      const settlement = planSettlement(messages, failures, (attempt) =>
        retryDelayAfter(attempt, settings.backoff, settings.random),
      );
      const settled = await recordSettlement(database, settlement, claim);
      return {
        claimed: messages.length,
        ...settled,
        dead: settled.dead + exhausted,
        lost: messages.length - (settled.delivered + settled.retrying + settled.dead),
      };
    } finally {
      deadline.clear();
    }
  }

  // Rounds are tracked, not only the loop's: `stop()` also waits for a `runOnce()` in flight.
  function runOnce(): Promise<OutboxRelayRound> {
    const running = round();
    rounds.add(running);
    const forget = () => rounds.delete(running);
    running.then(forget, forget);
    return running;
  }

  const loop = createBackgroundLoop({
    round: async () => (await runOnce()).claimed === batchSize,
    idleMs: settings.pollIntervalMs,
    onError: (error) => settings.onError(error),
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

/** The relay's options with every default applied, checked once. */
function relaySettings(options: OutboxRelayOptions) {
  const leaseMs = options.leaseMs ?? OUTBOX_RELAY_DEFAULTS.leaseMs;
  const settings = {
    database: options.database,
    sinks: options.sinks,
    relayId: options.relayId ?? crypto.randomUUID(),
    batchSize: options.batchSize ?? OUTBOX_RELAY_DEFAULTS.batchSize,
    maxAttempts: options.maxAttempts ?? OUTBOX_RELAY_DEFAULTS.maxAttempts,
    leaseMs,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? Math.floor(leaseMs / 2),
    pollIntervalMs: options.pollIntervalMs ?? OUTBOX_RELAY_DEFAULTS.pollIntervalMs,
    backoff: {
      initialDelayMs:
        options.backoff?.initialDelayMs ?? OUTBOX_RELAY_DEFAULTS.backoff.initialDelayMs,
      maxDelayMs: options.backoff?.maxDelayMs ?? OUTBOX_RELAY_DEFAULTS.backoff.maxDelayMs,
      jitter: options.backoff?.jitter ?? OUTBOX_RELAY_DEFAULTS.backoff.jitter,
    },
    random: options.random ?? Math.random,
    onError:
      options.onError ??
      ((error: unknown, message?: OutboxMessage) =>
        console.error(
          `${message === undefined ? '[strata outbox relay]' : `[strata outbox relay] ${message.destination} #${message.id}`}: ${describeError(error)}`,
        )),
  };
  const positiveInteger = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
    }
  };
  positiveInteger('batchSize', settings.batchSize);
  positiveInteger('maxAttempts', settings.maxAttempts);
  positiveInteger('leaseMs', settings.leaseMs);
  positiveInteger('deliveryTimeoutMs', settings.deliveryTimeoutMs);
  if (settings.deliveryTimeoutMs >= settings.leaseMs) {
    throw new RangeError(
      `deliveryTimeoutMs (${settings.deliveryTimeoutMs}) must be below leaseMs (${settings.leaseMs}): a delivery outliving its lease may overlap a redelivery`,
    );
  }
  const { initialDelayMs, maxDelayMs } = settings.backoff;
  if (!(initialDelayMs >= 0 && maxDelayMs >= 0)) {
    throw new RangeError(
      `backoff.initialDelayMs and backoff.maxDelayMs must be >= 0, got ${initialDelayMs} and ${maxDelayMs}`,
    );
  }
  if (Object.keys(settings.sinks).length === 0) {
    throw new RangeError('An outbox relay needs at least one sink');
  }
  return settings;
}
