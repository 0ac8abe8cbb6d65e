import { describe, expectTypeOf, it } from 'vitest';
import {
  type Counter,
  type CounterState,
  Incremented,
  type Reset,
} from '../../test/fixtures/counter.ts';
import type { ForgottenEvent } from '../crypto/forgotten.ts';
import type { EventEnvelope } from '../events/event.ts';
import type { EventDataOf } from '../events/event-definition.ts';
import type { CommandInput, CommandName, EventOf, StateOf } from './aggregate-definition.ts';

describe('types flow from the schemas', () => {
  it('event data is the current schema version output', () => {
    expectTypeOf<EventDataOf<typeof Incremented>>().toEqualTypeOf<{ by: number; note: string }>();
    expectTypeOf<EventDataOf<typeof Reset>>().toEqualTypeOf<{ reason: string }>();
    expectTypeOf(Incremented.type).toEqualTypeOf<'Incremented'>();
    expectTypeOf(Incremented.decode).returns.toEqualTypeOf<{ by: number; note: string }>();
  });

  it('state, events and commands are inferred from the definition', () => {
    expectTypeOf<StateOf<typeof Counter>>().toEqualTypeOf<CounterState>();
    expectTypeOf<EventOf<typeof Counter>>().toEqualTypeOf<
      | EventEnvelope<'Incremented', { by: number; note: string }>
      | EventEnvelope<'Reset', { reason: string }>
    >();
    expectTypeOf<CommandName<typeof Counter>>().toEqualTypeOf<
      'increment' | 'incrementTwice' | 'reset' | 'noop' | 'emitUnknown' | 'emitInvalid'
    >();
    // The caller's input is the schema's input: `note` has a default, so it is optional.
    expectTypeOf<CommandInput<typeof Counter, 'increment'>>().toEqualTypeOf<{
      by: number;
      note?: string | undefined;
    }>();
    expectTypeOf<CommandInput<typeof Counter, 'reset'>>().toEqualTypeOf<{ reason: string }>();
  });

  it('evolve and decide are typed against the aggregate', () => {
    type Evolve = typeof Counter.evolve;
    expectTypeOf<Parameters<Evolve>[0]>().toEqualTypeOf<CounterState>();
    // The definition's evolve also takes forgotten events (issue 7): it hands them to `forget`.
    expectTypeOf<Parameters<Evolve>[1]>().toEqualTypeOf<
      EventOf<typeof Counter> | ForgottenEvent<EventOf<typeof Counter>>
    >();
    type Decide = (typeof Counter.commands)['reset']['decide'];
    expectTypeOf<Parameters<Decide>[1]>().toEqualTypeOf<{ reason: string }>();
    expectTypeOf<ReturnType<Decide>[number]['type']>().toEqualTypeOf<'Incremented' | 'Reset'>();
  });
});
