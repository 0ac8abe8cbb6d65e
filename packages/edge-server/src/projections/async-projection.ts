import type { AnyAggregateDefinition, EventOf, StoredEvent } from '@strata/core';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/** Where a projection writes: the batch's transaction, and the tenant of the event at hand. */
export interface ProjectionContext {
  readonly tenant: string;
  /** Commits with the projection's checkpoint, or neither does. */
  readonly transaction: SqlExecutor;
}

/**
 * A read model in Postgres tables, kept after commit from the global order. Its writes and its
 * checkpoint commit in one transaction, so a crash never applies an event twice or skips one.
 * Every tenant's events reach it (`context.tenant` says whose); `aggregate` limits it to one
 * aggregate type and decodes (upcasts, types) its events.
 */
export interface AsyncProjection {
  readonly name: string;
  readonly aggregate?: AnyAggregateDefinition;
  /** Creates the projection's tables when missing; must be idempotent. Runs before the first batch. */
  setup?(transaction: SqlExecutor): unknown;
  /** Empties the projection's tables, for a rebuild from the first event. */
  reset(transaction: SqlExecutor): unknown;
  apply(event: StoredEvent, context: ProjectionContext): void | Promise<void>;
}

/**
 * Declares an async projection over one aggregate's events, typed from the aggregate.
 *
 * @example
 * const todoList = defineAsyncProjection({
 *   name: 'todo-list',
 *   aggregate: Todo,
 *   setup: (tx) => tx.query('CREATE TABLE IF NOT EXISTS todo_list (tenant text, id text, title text, PRIMARY KEY (tenant, id))'),
 *   reset: (tx) => tx.query('TRUNCATE todo_list'),
 *   async apply(event, { tenant, transaction }) {
 *     if (event.type === 'TodoAdded')
 *       await transaction.query('INSERT INTO todo_list VALUES ($1, $2, $3)', [tenant, event.aggregateId, event.data.title]);
 *   },
 * });
 */
export function defineAsyncProjection<TAggregate extends AnyAggregateDefinition>(config: {
  readonly name: string;
  readonly aggregate: TAggregate;
  setup?(transaction: SqlExecutor): unknown;
  reset(transaction: SqlExecutor): unknown;
  apply(event: EventOf<TAggregate> & StoredEvent, context: ProjectionContext): void | Promise<void>;
}): AsyncProjection {
  return config as AsyncProjection;
}
