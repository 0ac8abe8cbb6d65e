import { newKsuid } from '@strata/core';
import { createBackgroundLoop } from '../background/background-loop.ts';
import { safeErrorReporter } from '../logging/describe-error.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import {
  ackEvents,
  nackEvent,
  nackReplay,
  type PartitionAck,
  type PartitionNack,
} from './acknowledge-events.ts';
import { claimEvents } from './claim-events.ts';
import {
  type ConsumerGroup,
  type ConsumerGroupSettingsOptions,
  DEFAULT_CONSUMER_LEASE_MS,
  ensureConsumerGroup,
} from './consumer-group-definition.ts';
import { leaveConsumerGroup, renewLeases } from './consumer-membership.ts';

/** Where a handled event came from. */
export interface ConsumerGroupDelivery {
  readonly group: string;
  readonly consumerId: string;
  readonly partition: number;
  /** 1 on the first delivery; more when the event failed before (or is a parked replay). */
  readonly attempt: number;
  /** True for a parked event an operator queued again. */
  readonly replay: boolean;
}

/** Handles one event; a throw (or rejection) counts as a failed attempt. */
export type ConsumerGroupHandler = (
  event: PostgresStoredEvent,
  delivery: ConsumerGroupDelivery,
) => unknown | Promise<unknown>;

/** Options of `createConsumerGroup`; defaults are applied there, once. */
export interface ConsumerGroupOptions extends ConsumerGroupSettingsOptions {
  readonly database: SqlDatabase;
  /** The group's name: consumers with the same name (and tenant) share its work. */
  readonly group: string;
  /** Only this tenant's events. Defaults to every tenant's. */
  readonly tenant?: string;
  readonly handler: ConsumerGroupHandler;
  /** This consumer's id, unique in the group. Defaults to a fresh KSUID. */
  readonly consumerId?: string;
  /**
   * How long partitions stay held without a heartbeat: a crashed consumer's events are
   * redelivered to the others after it. Heartbeats go every third of it. Defaults to 30 000 ms.
   */
  readonly leaseMs?: number;
  /** Most events per claim. Defaults to 100. */
  readonly batchSize?: number;
  /** Pause after a claim that found nothing (or failed). Defaults to 500 ms. */
  readonly idleMs?: number;
  /** Where storage errors of the loop are reported. Defaults to one scrubbed line on console.error. */
  readonly onError?: (error: unknown) => void;
}

/** One consumer of a group. */
export interface ConsumerGroupConsumer {
  readonly consumerId: string;
  /** Claims, handles and acks in a loop until `stop()`. */
  start(): void;
  /** Ends the loop after the batch in hand, then leaves the group (its partitions free at once). */
  stop(): Promise<void>;
  /** One claim–handle–ack round; resolves with the number of events handled or failed. */
  runOnce(): Promise<number>;
  /** The group as stored (created on first use). */
  group(): Promise<ConsumerGroup>;
}

/**
 * A consumer of a persistent subscription with a consumer group: consumers with the same group
 * share the events (each partition, a slice of the aggregates, is held by one consumer at a time),
 * every event is handled at least once, one aggregate's events in order. The checkpoints live in
 * Postgres. A handler error is retried with backoff, then the event is parked (see
 * `listParkedEvents`, `replayParkedEvent`) and its partition moves on. A consumer that dies
 * stops renewing its leases; after `leaseMs` the others take its partitions and redeliver
 * what it had not acked. One consumer handles its events one at a time: run more consumers
 * (in this process or others) for parallelism, up to `partitions`.
 *
 * @example
 * const consumer = createConsumerGroup({
 *   database: neonDatabase(pool),
 *   group: 'welcome-emails',
 *   handler: async (event) => {
 *     if (event.type === 'UserRegistered') await sendWelcomeEmail(event.data);
 *   },
 * });
 * consumer.start();
 * // on shutdown
 * await consumer.stop();
 */
export function createConsumerGroup(options: ConsumerGroupOptions): ConsumerGroupConsumer {
  const { database, handler } = options;
  const consumerId = options.consumerId ?? newKsuid();
  const leaseMs = options.leaseMs ?? DEFAULT_CONSUMER_LEASE_MS;
  const batchSize = options.batchSize ?? 100;
  const idleMs = options.idleMs ?? 500;
  const report = options.onError ?? safeErrorReporter('[strata] consumer group');
  const settings: ConsumerGroupSettingsOptions = {
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
  };
  let ensured: Promise<ConsumerGroup> | undefined;
  const group = () => {
    ensured ??= ensureConsumerGroup(
      database,
      { name: options.group, ...(options.tenant === undefined ? {} : { tenant: options.tenant }) },
      settings,
    ).catch((error: unknown) => {
      ensured = undefined; // try again next round
      throw error;
    });
    return ensured;
  };

  async function runOnce(): Promise<number> {
    const stored = await group();
    const claim = await claimEvents(database, stored, { consumerId, limit: batchSize, leaseMs });
    if (claim.partitions.length === 0 && claim.replays.length === 0) return 0;
    // A long batch must not look like a crash: keep the leases fresh while handling. A partition
    // the heartbeat no longer holds (the lease ran out meanwhile) is someone else's now: its
    // remaining events are left to them.
    let held = new Set(claim.partitions.map((batch) => batch.partition));
    const heartbeat = setInterval(() => {
      renewLeases(database, stored, consumerId, leaseMs)
        .then((owned) => {
          held = new Set(owned);
        })
        .catch(report);
    }, leaseMs / 3);
    try {
      let handled = 0;
      const acks: PartitionAck[] = [];
      const nacks: PartitionNack[] = [];
      for (const batch of claim.partitions) {
        let last: string | undefined;
        let failed: PartitionNack | undefined;
        for (const [index, event] of batch.events.entries()) {
          if (!held.has(batch.partition)) break;
          handled++;
          try {
            await handler(event, {
              group: stored.name,
              consumerId,
              partition: batch.partition,
              attempt: index === 0 ? batch.attempts + 1 : 1,
              replay: false,
            });
            last = event.cursor;
          } catch (error) {
            failed = {
              partition: batch.partition,
              from: batch.from,
              ...(last === undefined ? {} : { to: last }),
              eventId: event.id,
              error: describeError(error),
            };
            break; // the partition's later events wait: one aggregate's order is kept
          }
        }
        if (failed !== undefined) nacks.push(failed);
        else if (last !== undefined)
          acks.push({ partition: batch.partition, from: batch.from, to: last });
      }
      const replaysDone: string[] = [];
      const replaysFailed: { parkedId: string; error: string }[] = [];
      for (const replay of claim.replays) {
        handled++;
        try {
          await handler(replay.event, {
            group: stored.name,
            consumerId,
            partition: replay.partition,
            attempt: replay.attempts + 1,
            replay: true,
          });
          replaysDone.push(replay.parkedId);
        } catch (error) {
          replaysFailed.push({ parkedId: replay.parkedId, error: describeError(error) });
        }
      }
      await ackEvents(database, stored, consumerId, acks, replaysDone, leaseMs);
      for (const nack of nacks) await nackEvent(database, stored, consumerId, nack, leaseMs);
      for (const { parkedId, error } of replaysFailed) {
        await nackReplay(database, stored, consumerId, parkedId, error);
      }
      return handled;
    } finally {
      clearInterval(heartbeat);
    }
  }

  const loop = createBackgroundLoop({
    round: async () => (await runOnce()) > 0,
    idleMs,
    onError: report,
  });

  return {
    consumerId,
    group,
    runOnce,
    start: () => loop.start(),
    async stop() {
      await loop.stop();
      if (ensured !== undefined) {
        await leaveConsumerGroup(database, await ensured, consumerId).catch(report);
      }
    },
  };
}

/** What a failure is stored as: the message and, for an `Error`, its name. */
function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 4000);
  return String(error).slice(0, 4000);
}
