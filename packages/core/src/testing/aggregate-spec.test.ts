import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Counter } from '../../test/fixtures/counter.ts';
import { defineAggregate } from '../aggregates/aggregate-definition.ts';
import { defineEvent } from '../events/event-definition.ts';
import { aggregateSpec } from './aggregate-spec.ts';
import { AssertionError } from './assertions.ts';

const spec = aggregateSpec(Counter);
const incremented = (by: number, note = '') =>
  ({ type: 'Incremented', data: { by, note } }) as const;

/** The message of the AssertionError `assertion` threw; fails the test if it threw none. */
function failureOf(assertion: () => unknown): string {
  try {
    assertion();
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    return (error as AssertionError).message;
  }
  throw new Error('expected the spec to fail, but it passed');
}

describe('aggregateSpec', () => {
  describe('then: the decided events', () => {
    it('passes when the command decides the expected events, and returns them', () => {
      const decided = spec
        .given()
        .when('increment', { by: 2, note: 'hi' })
        .then([incremented(2, 'hi')]);
      expect(decided).toEqual([incremented(2, 'hi')]);
    });

    it('passes on an empty list when the command decides nothing', () => {
      spec
        .given([incremented(1)])
        .when('noop', {})
        .then([]);
    });

    it('fails with what was expected and what was decided', () => {
      expect(
        failureOf(() =>
          spec
            .given()
            .when('increment', { by: 2 })
            .then([incremented(3)]),
        ),
      ).toBe(
        [
          'events decided by increment',
          'expected: [\n  {\n    "type": "Incremented",\n    "data": {\n      "by": 3,\n      "note": ""\n    }\n  }\n]',
          'actual:   [\n  {\n    "type": "Incremented",\n    "data": {\n      "by": 2,\n      "note": ""\n    }\n  }\n]',
        ].join('\n'),
      );
    });

    it('fails when the count of events differs', () => {
      const message = failureOf(() =>
        spec
          .given()
          .when('incrementTwice', { by: 1 })
          .then([incremented(1, 'first')]),
      );
      expect(message).toMatch(/^events decided by incrementTwice\n/);
      expect(message).toContain('"note": "second"');
    });

    it('compares metadata only when the expected event names some', () => {
      const Tagged = defineAggregate({
        type: 'Tagged',
        events: [defineEvent('Tagged', z.object({}))],
        initialState: () => ({}),
        evolve: (state) => state,
      }).withCommands((command) => ({
        tag: command(z.object({}), () => [
          { type: 'Tagged', data: {}, metadata: { source: 'ui' } },
        ]),
      }));
      const tagged = aggregateSpec(Tagged);
      tagged
        .given()
        .when('tag', {})
        .then([{ type: 'Tagged', data: {} }]);
      tagged
        .given()
        .when('tag', {})
        .then([{ type: 'Tagged', data: {}, metadata: { source: 'ui' } }]);
      expect(
        failureOf(() =>
          tagged
            .given()
            .when('tag', {})
            .then([{ type: 'Tagged', data: {}, metadata: { source: 'api' } }]),
        ),
      ).toContain('"source": "ui"');
    });

    it('fails, naming the error, when the command throws instead', () => {
      expect(failureOf(() => spec.given().when('reset', { reason: 'x' }).then([]))).toBe(
        'reset threw DOMAIN_RULE_VIOLATED: Nothing to reset',
      );
    });
  });

  describe('thenState: the state after the given and the decided events', () => {
    it('folds the given events and the decided ones with evolve', () => {
      spec
        .given([incremented(2), incremented(3)])
        .when('increment', { by: 5 })
        .thenState({ count: 10, resets: 0 });
    });

    it('fails with the expected and the actual state', () => {
      expect(
        failureOf(() =>
          spec
            .given([incremented(2)])
            .when('reset', { reason: 'x' })
            .thenState({ count: 2, resets: 0 }),
        ),
      ).toBe(
        'state after reset\nexpected: {\n  "count": 2,\n  "resets": 0\n}\nactual:   {\n  "count": 0,\n  "resets": 1\n}',
      );
    });

    it('fails, naming the error, when the command throws instead', () => {
      expect(
        failureOf(() =>
          spec.given().when('reset', { reason: 'x' }).thenState({ count: 0, resets: 0 }),
        ),
      ).toBe('reset threw DOMAIN_RULE_VIOLATED: Nothing to reset');
    });
  });

  describe('thenThrows: the strata error the command raises', () => {
    it('passes on the code, and on the reason of a domain error when given', () => {
      spec.given().when('reset', { reason: 'x' }).thenThrows('DOMAIN_RULE_VIOLATED');
      spec
        .given()
        .when('reset', { reason: 'x' })
        .thenThrows('DOMAIN_RULE_VIOLATED', 'ALREADY_ZERO');
    });

    it('fails when another code was thrown', () => {
      expect(
        failureOf(() =>
          spec.given().when('reset', { reason: 'x' }).thenThrows('VALIDATION_FAILED'),
        ),
      ).toBe('expected VALIDATION_FAILED, got DOMAIN_RULE_VIOLATED: Nothing to reset');
    });

    it('fails when the reason differs', () => {
      expect(
        failureOf(() =>
          spec.given().when('reset', { reason: 'x' }).thenThrows('DOMAIN_RULE_VIOLATED', 'TOO_BIG'),
        ),
      ).toBe('expected reason TOO_BIG, got ALREADY_ZERO');
    });

    it('fails, showing what was decided, when nothing was thrown', () => {
      expect(
        failureOf(() =>
          spec.given().when('increment', { by: 1 }).thenThrows('DOMAIN_RULE_VIOLATED'),
        ),
      ).toBe(
        'expected DOMAIN_RULE_VIOLATED, but decided [{"type":"Incremented","data":{"by":1,"note":""}}]',
      );
    });

    it('fails on an error that is not a strata error, naming it', () => {
      const Broken = defineAggregate({
        type: 'Broken',
        events: [defineEvent('Never', z.object({}))],
        initialState: () => ({}),
        evolve: (state) => state,
      }).withCommands((command) => ({
        crash: command(z.object({}), () => {
          throw new RangeError('boom');
        }),
      }));
      expect(
        failureOf(() =>
          aggregateSpec(Broken).given().when('crash', {}).thenThrows('DOMAIN_RULE_VIOLATED'),
        ),
      ).toBe('expected DOMAIN_RULE_VIOLATED, got RangeError: boom');
    });
  });

  describe('validates like execute', () => {
    it('the command input with its schema, defaults applied', () => {
      spec.given().when('increment', { by: 0 }).thenThrows('VALIDATION_FAILED');
      spec
        .given()
        .when('increment', { by: 4 })
        .then([incremented(4, '')]);
    });

    it('the decided events with theirs: an undeclared type or invalid data is refused', () => {
      spec.given().when('emitUnknown', {}).thenThrows('UNKNOWN_EVENT_TYPE');
      spec.given().when('emitInvalid', {}).thenThrows('VALIDATION_FAILED');
      expect(failureOf(() => spec.given().when('emitInvalid', {}).then([]))).toMatch(
        /^emitInvalid threw VALIDATION_FAILED: Invalid data for event Incremented/,
      );
    });

    it('an unknown command name, even one inherited from Object', () => {
      spec
        .given()
        .when('toString' as never, {} as never)
        .thenThrows('UNKNOWN_COMMAND');
    });

    it('the given events with their schemas, before any command runs', () => {
      expect(() => spec.given([{ type: 'Incremented', data: { by: 'one' } } as never])).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      expect(() => spec.given([{ type: 'Vanished', data: {} } as never])).toThrow(
        expect.objectContaining({ code: 'UNKNOWN_EVENT_TYPE' }),
      );
    });
  });

  it("hands decide the given events' version, the epoch and spec metadata, overridable per command", () => {
    const Stamped = defineAggregate({
      type: 'Stamped',
      events: [
        defineEvent('Stamped', z.object({ at: z.string(), version: z.number(), by: z.string() })),
      ],
      initialState: () => ({}),
      evolve: (state) => state,
    }).withCommands((command) => ({
      stamp: command(z.object({}), (_state, _input, context) => [
        {
          type: 'Stamped',
          data: {
            at: context.now.toISOString(),
            version: context.version,
            by: context.aggregateId,
          },
        },
      ]),
    }));
    const stamped = aggregateSpec(Stamped);
    const first = { type: 'Stamped', data: { at: '', version: 0, by: '' } } as const;
    stamped
      .given([first, first])
      .when('stamp', {})
      .then([
        {
          type: 'Stamped',
          data: { at: '1970-01-01T00:00:00.000Z', version: 2, by: 'spec-aggregate' },
        },
      ]);
    stamped
      .given()
      .when('stamp', {}, { now: new Date('2030-01-02T03:04:05Z'), aggregateId: 'stamp-7' })
      .then([
        { type: 'Stamped', data: { at: '2030-01-02T03:04:05.000Z', version: 0, by: 'stamp-7' } },
      ]);
  });
});
