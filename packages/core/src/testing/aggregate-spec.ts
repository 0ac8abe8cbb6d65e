import type {
  AnyAggregateDefinition,
  CommandContext,
  CommandInput,
  CommandName,
  EventDefinitionsOf,
  EventDraftOf,
  StateOf,
} from '../aggregates/aggregate-definition.ts';
import { UnknownCommandError } from '../errors/errors.ts';
import type { ErrorCode } from '../errors/strata-error.ts';
import { isAnyStrataError } from '../errors/strata-error.ts';
import { parseOrThrow } from '../errors/validation-issues.ts';
import type { EventEnvelope } from '../events/event.ts';
import { AssertionError, assertEqual, describeError } from './assertions.ts';

type DraftOf<TAggregate> = EventDraftOf<EventDefinitionsOf<TAggregate>>;

/** The outcome of `when`: assert it with `then`, `thenState` or `thenThrows`. */
export interface SpecOutcome<TAggregate extends AnyAggregateDefinition> {
  /** Asserts the decided events (type and data; metadata when given). Returns them. */
  then(expected: readonly DraftOf<TAggregate>[]): readonly DraftOf<TAggregate>[];
  /** Asserts the state after the given and the decided events. */
  thenState(expected: StateOf<TAggregate>): void;
  /** Asserts that validation or `decide` threw a strata error of `code` (and `reason`, if given). */
  thenThrows(code: ErrorCode, reason?: string): void;
}

/** `given` events, then `when` a command. */
export interface SpecGiven<TAggregate extends AnyAggregateDefinition> {
  when<TName extends CommandName<TAggregate>>(
    command: TName,
    input: CommandInput<TAggregate, TName>,
    context?: Partial<CommandContext>,
  ): SpecOutcome<TAggregate>;
}

/** Given/when/then for one aggregate. */
export interface AggregateSpec<TAggregate extends AnyAggregateDefinition> {
  given(events?: readonly DraftOf<TAggregate>[]): SpecGiven<TAggregate>;
}

/**
 * A given/when/then helper for aggregates: pure, synchronous, runner-agnostic (it throws an
 * `AssertionError`). Given events are validated with their schemas and folded with `evolve`;
 * the command's input is validated with its schema before `decide` runs, and the decided events
 * with theirs, as `execute` would.
 *
 * @example
 * const spec = aggregateSpec(Todo);
 * spec.given([{ type: 'TodoAdded', data: { title: 'Milk' } }])
 *   .when('complete', {})
 *   .then([{ type: 'TodoCompleted', data: {} }]);
 * spec.given().when('complete', {}).thenThrows('DOMAIN_RULE_VIOLATED', 'TODO_NOT_FOUND');
 */
export function aggregateSpec<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
): AggregateSpec<TAggregate> {
  const aggregateId = 'spec-aggregate';
  const envelope = (draft: DraftOf<TAggregate>, version: number): EventEnvelope => {
    const definition = aggregate.events.get(draft.type);
    return {
      id: `spec-${version}`,
      type: draft.type,
      schemaVersion: definition.schemaVersion,
      aggregateType: aggregate.type,
      aggregateId,
      version,
      occurredAt: new Date(0).toISOString(),
      data: definition.parse(draft.data),
      metadata: draft.metadata ?? {},
    };
  };
  const fold = (state: StateOf<TAggregate>, events: readonly EventEnvelope[]) =>
    events.reduce<StateOf<TAggregate>>((current, event) => aggregate.evolve(current, event), state);

  return {
    given(givenDrafts = []) {
      const givenEvents = givenDrafts.map((draft, index) => envelope(draft, index + 1));
      const state = fold(aggregate.initialState(), givenEvents);
      return {
        when(commandName, input, context = {}) {
          const run = (): readonly DraftOf<TAggregate>[] => {
            // Refused as `execute` refuses them (prepareCommand): an unknown name, even one
            // inherited from Object, and below, drafts the aggregate could not store.
            const command = Object.hasOwn(aggregate.commands, commandName)
              ? aggregate.commands[commandName]
              : undefined;
            if (command === undefined) throw new UnknownCommandError(aggregate.type, commandName);
            const parsed = parseOrThrow(
              command.input,
              input,
              `input for ${aggregate.type}.${commandName}`,
            );
            const drafts: readonly DraftOf<TAggregate>[] = command.decide(state, parsed, {
              aggregateId,
              version: givenEvents.length,
              now: new Date(0),
              metadata: { commandId: 'spec', correlationId: 'spec', causationId: 'spec' },
              ...context,
            });
            for (const draft of drafts) aggregate.events.get(draft.type).parse(draft.data);
            return drafts;
          };
          const decided = (): readonly DraftOf<TAggregate>[] => {
            try {
              return run();
            } catch (error) {
              throw new AssertionError(`${String(commandName)} threw ${describeError(error)}`);
            }
          };
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then reads best with `then`; the outcome is never awaited
            then(expected) {
              const actual = decided();
              const comparable = actual.map((draft, index) => ({
                type: draft.type,
                data: draft.data,
                ...(expected[index]?.metadata === undefined ? {} : { metadata: draft.metadata }),
              }));
              assertEqual(comparable, expected, `events decided by ${String(commandName)}`);
              return actual;
            },
            thenState(expected) {
              const actual = decided();
              const after = actual.map((draft, index) =>
                envelope(draft, givenEvents.length + index + 1),
              );
              assertEqual(fold(state, after), expected, `state after ${String(commandName)}`);
            },
            thenThrows(code, reason) {
              let outcome: readonly DraftOf<TAggregate>[];
              try {
                outcome = run();
              } catch (error) {
                if (!isAnyStrataError(error) || error.code !== code) {
                  throw new AssertionError(`expected ${code}, got ${describeError(error)}`);
                }
                const actualReason = (error as { reason?: unknown }).reason;
                if (reason !== undefined && actualReason !== reason) {
                  throw new AssertionError(
                    `expected reason ${reason}, got ${String(actualReason)}`,
                  );
                }
                return;
              }
              throw new AssertionError(`expected ${code}, but decided ${JSON.stringify(outcome)}`);
            },
          };
        },
      };
    },
  };
}
