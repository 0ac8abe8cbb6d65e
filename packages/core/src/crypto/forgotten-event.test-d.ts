import { describe, expectTypeOf, it } from 'vitest';
import { Counter } from '../../test/fixtures/counter.ts';
import type { EventOf } from '../aggregates/aggregate-definition.ts';
import type { EventEnvelope, StoredEvent } from '../events/event.ts';
import { type ForgottenEvent, type ForgottenPayload, isForgottenEvent } from './forgotten.ts';

declare const stored: StoredEvent;
declare const known: EventEnvelope<string, { by: number }>;

describe('forgotten events in the types', () => {
  it('decode of stored (untyped) data may give a forgotten event; narrowing separates them', () => {
    const event = Counter.events.decode(stored);
    expectTypeOf(event.data).toEqualTypeOf<
      { by: number; note: string } | { reason: string } | ForgottenPayload
    >();
    if (isForgottenEvent(event)) {
      expectTypeOf(event.data).toEqualTypeOf<ForgottenPayload>();
      expectTypeOf(event.type).toEqualTypeOf<'Incremented' | 'Reset'>();
    } else if (event.type === 'Incremented') {
      expectTypeOf(event.data).toEqualTypeOf<{ by: number; note: string }>();
    }
  });

  it('decode of data that cannot be the marker gives no forgotten event', () => {
    const event = Counter.events.decode(known);
    expectTypeOf<Extract<typeof event, { data: ForgottenPayload }>>().toBeNever();
    expectTypeOf(event.type).toEqualTypeOf<'Incremented' | 'Reset'>();
  });

  it('forgotten events keep the type union, so forget rules can tell them apart', () => {
    type Forgotten = ForgottenEvent<EventOf<typeof Counter>>;
    expectTypeOf<Forgotten['type']>().toEqualTypeOf<'Incremented' | 'Reset'>();
    expectTypeOf<Forgotten['data']>().toEqualTypeOf<ForgottenPayload>();
    expectTypeOf(Counter.evolve).toBeCallableWith(
      { count: 0, resets: 0 },
      Counter.events.decode(stored),
    );
  });
});
