import type {
  AnyAggregateDefinition,
  EventOf,
  StateOf,
} from '../aggregates/aggregate-definition.ts';
import { decodedFor, receives } from '../aggregates/aggregate-scope.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';
import type { StoredEvent } from '../events/event.ts';

/**
 * A read model kept inside the append's transaction: it commits with the events or not at all.
 * `aggregate` limits it to one aggregate type and types its events. Not called on replay.
 */
export interface InlineProjection<TTransaction> {
  readonly name: string;
  readonly aggregate?: AnyAggregateDefinition;
  apply(event: StoredEvent, transaction: TTransaction): void | Promise<void>;
  /**
   * Removes what this projection derived from one aggregate's events. The browser's sync client
   * calls it when a rebase rewrites an aggregate's pending events, then replays that aggregate's
   * events through `apply`. Without it, a rebase rebuilds the projection tables from the log.
   */
  forget?(stream: StreamRef, transaction: TTransaction): void | Promise<void>;
  /**
   * Sets what this projection derives from one aggregate to what its state at `version` says,
   * for an aggregate a device started from a server snapshot (no events before `version` to
   * apply); its later events come through `apply`. Needed for snapshot bootstrap.
   */
  fromState?(
    stream: StreamRef,
    state: unknown,
    version: number,
    transaction: TTransaction,
  ): void | Promise<void>;
}

/** Configuration of `defineInlineProjection`. */
export interface InlineProjectionConfig<TAggregate extends AnyAggregateDefinition, TTransaction> {
  readonly name: string;
  readonly aggregate: TAggregate;
  apply(event: EventOf<TAggregate> & StoredEvent, transaction: TTransaction): void | Promise<void>;
  /**
   * Optional: removes what this projection derived from one aggregate's events. The browser's sync client
   * calls it when a rebase rewrites an aggregate's pending events, then replays that aggregate's
   * events through `apply`. Without it, a rebase rebuilds the projection tables from the log.
   */
  forget?(stream: StreamRef, transaction: TTransaction): void | Promise<void>;
  /**
   * Optional: sets what this projection derives from one aggregate to what its state at
   * `version` says (the aggregate started from a server snapshot, see
   * `SnapshotOptions.bootstrap`); later events come through `apply`.
   */
  fromState?(
    stream: StreamRef,
    state: StateOf<TAggregate>,
    version: number,
    transaction: TTransaction,
  ): void | Promise<void>;
}

/**
 * Declares an inline projection over one aggregate's events, typed from the aggregate.
 *
 * @example
 * const todoList = defineInlineProjection({
 *   name: 'todo-list',
 *   aggregate: Todo,
 *   apply(event, tx: InMemoryTransaction) {
 *     if (event.type === 'TodoAdded') tx.readModel('todos').put(event.aggregateId, event.data);
 *   },
 * });
 */
export function defineInlineProjection<TAggregate extends AnyAggregateDefinition, TTransaction>(
  config: InlineProjectionConfig<TAggregate, TTransaction>,
): InlineProjection<TTransaction> {
  return config as InlineProjection<TTransaction>;
}

/**
 * Runs stored events through inline projections, in order, each event decoded (upcast) with its
 * projection's aggregate: the events may come from the log, written by any app version. The
 * browser uses it for appends, rebuilds and sync; the server inside its append transaction.
 */
export async function applyInlineProjections<TTransaction>(
  projections: readonly InlineProjection<TTransaction>[],
  events: readonly StoredEvent[],
  transaction: TTransaction,
): Promise<void> {
  for (const event of events) {
    for (const projection of projections) {
      if (receives(projection, event))
        await projection.apply(decodedFor(projection, event), transaction);
    }
  }
}
