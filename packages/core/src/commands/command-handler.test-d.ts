import { describe, expectTypeOf, it } from 'vitest';
import { Counter, type CounterState } from '../../test/fixtures/counter.ts';
import type { EventOf } from '../aggregates/aggregate-definition.ts';
import type { EventStore } from '../event-store/event-store.ts';
import {
  createInMemoryEventStore,
  type InMemoryTransaction,
} from '../event-store/in-memory-event-store.ts';
import type { StoredEvent } from '../events/event.ts';
import { defineInlineProjection } from '../projections/inline-projection.ts';
import { defineSyncReactor } from '../reactors/sync-reactor.ts';
import { createCommandHandler, type ExecutedCommand } from './command-handler.ts';
import type { LoadedAggregate } from './load-aggregate.ts';

const app = createCommandHandler({ store: createInMemoryEventStore() });
const ignore = () => undefined;

describe("execute's inputs", () => {
  it('execute checks command names and inputs and types its result', async () => {
    const result = await app.execute(Counter, 'c1', 'increment', { by: 1 });
    expectTypeOf(result.state).toEqualTypeOf<CounterState>();
    expectTypeOf(result.events[0]).toEqualTypeOf<
      (EventOf<typeof Counter> & StoredEvent) | undefined
    >();

    // @ts-expect-error: no such command
    await app.execute(Counter, 'c1', 'decrement', {}).catch(() => undefined);
    // @ts-expect-error: `by` must be a number
    await app.execute(Counter, 'c1', 'increment', { by: 'one' }).catch(() => undefined);
    // @ts-expect-error: `reason` is required
    await app.execute(Counter, 'c1', 'reset', {}).catch(() => undefined);
  });

  it('takes what the schema takes: defaulted fields may be left out, unknown ones may not', () => {
    app.execute(Counter, 'c1', 'increment', { by: 1 }).catch(ignore);
    app.execute(Counter, 'c1', 'increment', { by: 1, note: 'with a note' }).catch(ignore);
    // @ts-expect-error: `amount` is not part of the input
    app.execute(Counter, 'c1', 'increment', { by: 1, amount: 2 }).catch(ignore);
    // @ts-expect-error: the input is required, even an empty one
    app.execute(Counter, 'c1', 'noop').catch(ignore);
    // @ts-expect-error: the aggregate id is a string
    app.execute(Counter, 7, 'noop', {}).catch(ignore);
  });

  it('options: an expected version is a version or a sentinel, metadata is JSON', () => {
    app.execute(Counter, 'c1', 'noop', {}, { expectedVersion: 'no_stream' }).catch(ignore);
    app
      .execute(Counter, 'c1', 'noop', {}, { expectedVersion: 3, conflictRetries: 2 })
      .catch(ignore);
    app
      .execute(Counter, 'c1', 'noop', {}, { metadata: { userId: 'u1', source: 'ui' } })
      .catch(ignore);
    // @ts-expect-error: 'latest' is no expected version
    app.execute(Counter, 'c1', 'noop', {}, { expectedVersion: 'latest' }).catch(ignore);
    // @ts-expect-error: metadata values are JSON, not functions
    app.execute(Counter, 'c1', 'noop', {}, { metadata: { at: () => 1 } }).catch(ignore);
  });

  it("load gives the aggregate's state type", async () => {
    expectTypeOf(await app.load(Counter, 'c1')).toEqualTypeOf<LoadedAggregate<CounterState>>();
  });
});

describe("the handler's hooks", () => {
  it("recordCommand and onError are typed; the transaction is the store's", () => {
    createCommandHandler({
      store: createInMemoryEventStore(),
      recordCommand(command, transaction) {
        expectTypeOf(command).toEqualTypeOf<ExecutedCommand>();
        expectTypeOf(transaction).toEqualTypeOf<InMemoryTransaction>();
      },
      onError(error, source) {
        expectTypeOf(error).toBeUnknown();
        expectTypeOf(source).toBeString();
      },
    });
  });

  it("projections and sync reactors must work on the store's transaction", () => {
    interface SqlTransaction {
      query(sql: string): Promise<unknown>;
    }
    const sqlStore = {} as EventStore<SqlTransaction>;
    const inMemoryTotals = defineInlineProjection({
      name: 'totals',
      aggregate: Counter,
      apply: (_event, _tx: InMemoryTransaction) => {},
    });
    const sqlAudit = defineSyncReactor({
      name: 'audit',
      aggregate: Counter,
      react: (_event, _tx: SqlTransaction) => {},
    });
    createCommandHandler({ store: createInMemoryEventStore(), projections: [inMemoryTotals] });
    createCommandHandler({ store: sqlStore, syncReactors: [sqlAudit] });
    // @ts-expect-error: an in-memory projection cannot run in a SQL transaction
    createCommandHandler({ store: sqlStore, projections: [inMemoryTotals] });
    // @ts-expect-error: a SQL reactor cannot run in the in-memory store's transaction
    createCommandHandler({ store: createInMemoryEventStore(), syncReactors: [sqlAudit] });
  });
});
