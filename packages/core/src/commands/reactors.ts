import type { AnyAggregateDefinition, EventOf } from '../aggregates/aggregate-definition.ts';
import type { StoredEvent } from '../events/event.ts';

/**
 * Runs inside the append's transaction, after inline projections; throwing vetoes the append and
 * the error reaches the caller. Not called on replay.
 */
export interface SyncReactor<TTransaction> {
  readonly name: string;
  readonly aggregate?: AnyAggregateDefinition;
  react(event: StoredEvent, transaction: TTransaction): void | Promise<void>;
}

/**
 * Runs after the append committed, in the background. In process it is retried a few times and
 * then reported to `onError`; durable at-least-once delivery comes from the server's outbox.
 * Not called on replay.
 */
export interface AsyncReactor {
  readonly name: string;
  readonly aggregate?: AnyAggregateDefinition;
  react(event: StoredEvent, context?: AsyncReactorContext): void | Promise<void>;
}

/** What an async reactor may be given with an event. */
export interface AsyncReactorContext {
  /**
   * Aborted when the delivery ran out of time (the server's outbox relay): stop then, or the
   * event may be handled again while this run goes on.
   */
  readonly signal?: AbortSignal;
}

/**
 * Declares a sync reactor over one aggregate's events.
 *
 * @example
 * const noShouting = defineSyncReactor({
 *   name: 'no-shouting',
 *   aggregate: Todo,
 *   react(event) {
 *     if (event.type === 'TodoAdded' && event.data.title === event.data.title.toUpperCase())
 *       throw new DomainRuleViolatedError('SHOUTING', 'Please do not shout');
 *   },
 * });
 */
export function defineSyncReactor<TAggregate extends AnyAggregateDefinition, TTransaction>(config: {
  readonly name: string;
  readonly aggregate: TAggregate;
  react(event: EventOf<TAggregate> & StoredEvent, transaction: TTransaction): void | Promise<void>;
}): SyncReactor<TTransaction> {
  return config as SyncReactor<TTransaction>;
}

/**
 * Declares an async reactor over one aggregate's events.
 *
 * @example
 * const notify = defineAsyncReactor({
 *   name: 'notify',
 *   aggregate: Todo,
 *   react: (event) => { if (event.type === 'TodoCompleted') sendPush(event.aggregateId); },
 * });
 */
export function defineAsyncReactor<TAggregate extends AnyAggregateDefinition>(config: {
  readonly name: string;
  readonly aggregate: TAggregate;
  react(
    event: EventOf<TAggregate> & StoredEvent,
    context?: AsyncReactorContext,
  ): void | Promise<void>;
}): AsyncReactor {
  return config as AsyncReactor;
}

/** Whether a projection or reactor limited to `aggregate` receives `event`. */
export function receives(
  handler: { readonly aggregate?: AnyAggregateDefinition },
  event: StoredEvent,
): boolean {
  return handler.aggregate === undefined || handler.aggregate.type === event.aggregateType;
}

/** The event as `handler` sees it: decoded (upcast, typed) with its aggregate when it has one. */
export function decodedFor(
  handler: { readonly aggregate?: AnyAggregateDefinition },
  event: StoredEvent,
): StoredEvent {
  return handler.aggregate === undefined ? event : handler.aggregate.events.decode(event);
}
