import { describe, expectTypeOf, it } from 'vitest';
import { Counter } from '../../test/fixtures/counter.ts';
import type { EventOf } from '../aggregates/aggregate-definition.ts';
import type { InMemoryTransaction } from '../event-store/in-memory-event-store.ts';
import type { StoredEvent } from '../events/event.ts';
import {
  type AsyncReactor,
  type AsyncReactorContext,
  defineAsyncReactor,
} from './async-reactor.ts';
import { defineSyncReactor, type SyncReactor } from './sync-reactor.ts';

describe('reactors', () => {
  it("a sync reactor gets the aggregate's events and the append's transaction", () => {
    const guard = defineSyncReactor({
      name: 'guard',
      aggregate: Counter,
      react(event, transaction: InMemoryTransaction) {
        expectTypeOf(event).toEqualTypeOf<EventOf<typeof Counter> & StoredEvent>();
        if (event.type === 'Reset') expectTypeOf(event.data.reason).toBeString();
        expectTypeOf(transaction.readModel).toBeFunction();
      },
    });
    expectTypeOf(guard).toEqualTypeOf<SyncReactor<InMemoryTransaction>>();
  });

  it('an async reactor gets the events and, maybe, a context with an abort signal', () => {
    const notify = defineAsyncReactor({
      name: 'notify',
      aggregate: Counter,
      async react(event, context) {
        expectTypeOf(event).toEqualTypeOf<EventOf<typeof Counter> & StoredEvent>();
        expectTypeOf(context).toEqualTypeOf<AsyncReactorContext | undefined>();
        expectTypeOf(context?.signal).toEqualTypeOf<AbortSignal | undefined>();
      },
    });
    expectTypeOf(notify).toEqualTypeOf<AsyncReactor>();
  });

  it('reactors need their aggregate and may not take a transaction after commit', () => {
    // @ts-expect-error: the aggregate is required (it types the events)
    defineSyncReactor({ name: 'guard', react: () => {} });
    defineAsyncReactor({
      name: 'notify',
      aggregate: Counter,
      // @ts-expect-error: an async reactor runs after the commit: its second argument is a context
      react: (_event, transaction: InMemoryTransaction) => transaction.readModel('x'),
    });
    defineAsyncReactor({
      name: 'notify',
      aggregate: Counter,
      react(event) {
        // @ts-expect-error: Counter has no Decremented event
        if (event.type === 'Decremented') return;
      },
    });
  });
});
