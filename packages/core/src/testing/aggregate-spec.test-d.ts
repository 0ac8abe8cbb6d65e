import { describe, expectTypeOf, it } from 'vitest';
import { Counter } from '../../test/fixtures/counter.ts';
import { aggregateSpec } from './aggregate-spec.ts';

const spec = aggregateSpec(Counter);

describe('aggregateSpec', () => {
  it("checks given events, the command and its input, and expected events against the aggregate's types", () => {
    const decided = spec
      .given([{ type: 'Incremented', data: { by: 1, note: '' } }])
      .when('increment', { by: 2 })
      .then([{ type: 'Incremented', data: { by: 2, note: '' } }]);
    expectTypeOf(decided[0]?.type).toEqualTypeOf<'Incremented' | 'Reset' | undefined>();

    // @ts-expect-error: a given event needs the current schema's data (note)
    spec.given([{ type: 'Incremented', data: { by: 1 } }]);
    // @ts-expect-error: not an event of the Counter
    spec.given([{ type: 'Decremented', data: {} }]);
    // @ts-expect-error: no such command
    spec.given().when('decrement', {});
    // @ts-expect-error: `by` must be a number
    spec.given().when('increment', { by: 'two' });
    const outcome = spec.given().when('increment', { by: 2 });
    // @ts-expect-error: an expected event is typed like a decided one
    outcome.then([{ type: 'Incremented', data: { by: '2', note: '' } }]);
  });

  it('thenState takes the state type, thenThrows a strata error code', () => {
    const outcome = spec.given().when('increment', { by: 2 });
    expectTypeOf(outcome.thenState).parameter(0).toEqualTypeOf<{ count: number; resets: number }>();
    // @ts-expect-error: not a strata error code
    outcome.thenThrows('NOT_A_CODE');
    // @ts-expect-error: the state has no total
    outcome.thenState({ total: 2 });
  });
});
