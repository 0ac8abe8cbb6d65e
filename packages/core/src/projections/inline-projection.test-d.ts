import { describe, expectTypeOf, it } from 'vitest';
import { Counter } from '../../test/fixtures/counter.ts';
import type { EventOf } from '../aggregates/aggregate-definition.ts';
import type { InMemoryTransaction } from '../event-store/in-memory-event-store.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';
import type { StoredEvent } from '../events/event.ts';
import { defineInlineProjection, type InlineProjection } from './inline-projection.ts';

describe('defineInlineProjection', () => {
  it("types apply's event from the aggregate and its transaction from the annotation", () => {
    const totals = defineInlineProjection({
      name: 'totals',
      aggregate: Counter,
      apply(event, transaction: InMemoryTransaction) {
        expectTypeOf(event).toEqualTypeOf<EventOf<typeof Counter> & StoredEvent>();
        if (event.type === 'Incremented') {
          expectTypeOf(event.data).toEqualTypeOf<{ by: number; note: string }>();
          transaction.readModel<number>('totals').put(event.aggregateId, event.data.by);
        }
        // @ts-expect-error: Counter has no Decremented event
        if (event.type === 'Decremented') return;
        // @ts-expect-error: Reset carries a reason, not an amount
        if (event.type === 'Reset') transaction.readModel('x').put('k', event.data.by);
      },
      forget(stream, transaction) {
        expectTypeOf(stream).toEqualTypeOf<StreamRef>();
        expectTypeOf(transaction).toEqualTypeOf<InMemoryTransaction>();
      },
    });
    expectTypeOf(totals).toEqualTypeOf<InlineProjection<InMemoryTransaction>>();
  });

  it('needs a name and an aggregate', () => {
    // @ts-expect-error: the aggregate is required (it types the events)
    defineInlineProjection({ name: 'no-aggregate', apply: () => {} });
    // @ts-expect-error: the name is required
    defineInlineProjection({ aggregate: Counter, apply: () => {} });
  });
});
