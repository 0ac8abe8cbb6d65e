import type { AnyAggregateDefinition, EventOf } from '../aggregates/aggregate-definition.ts';
import type { StoredEvent } from '../events/event.ts';

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
