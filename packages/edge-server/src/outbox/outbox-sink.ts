import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';

/** What a relay hands to a sink: one event for one destination, at one attempt. */
export interface OutboxMessage {
  /** Stable across redeliveries: receivers deduplicate on it (delivery is at least once). */
  readonly id: string;
  readonly destination: string;
  readonly tenant: string;
  /** The event, decrypted (a forgotten aggregate's payload never reaches a sink). */
  readonly event: PostgresStoredEvent;
  /** 1 on the first delivery, counting every claim (a crashed relay's claim included). */
  readonly attempt: number;
}

/** Passed to every delivery. */
export interface OutboxDeliveryContext {
  /**
   * Aborted when the delivery runs out of time, before the relay's lease on the message ends:
   * a sink must stop then (another relay may deliver the message once the lease expires).
   */
  readonly signal: AbortSignal;
}

/**
 * Delivers outbox messages of one destination. Resolving acknowledges the message; throwing (or
 * not settling before `signal` aborts) is a failed attempt, retried with backoff. Messages may
 * arrive more than once and in any order: deduplicate on `message.id`, order by
 * `event.version` or `event.position`.
 *
 * @example
 * const audit: OutboxSink = async (message, { signal }) => {
 *   const body = JSON.stringify(message);
 *   const response = await fetch(AUDIT_URL, { method: 'POST', body, signal });
 *   if (!response.ok) throw new Error(`audit answered ${response.status}`);
 * };
 */
export type OutboxSink = (
  message: OutboxMessage,
  context: OutboxDeliveryContext,
) => void | Promise<void>;
