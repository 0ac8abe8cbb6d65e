import type {
  AnyAggregateDefinition,
  CommandContext,
  CommandMetadata,
} from '../aggregates/aggregate-definition.ts';
import type { CommandPrincipal } from '../aggregates/command-principal.ts';
import { ForbiddenError } from '../errors/errors.ts';
import { parseOrThrow } from '../errors/validation-issues.ts';
import type { EventEnvelope, EventMetadata } from '../events/event.ts';
import { commandOf, upgradeCommandInput } from './upgrade-command-input.ts';

/** What a command decided on one state: its events (versions after the state's) and the new state. */
export interface Decision {
  /** Empty when the command changes nothing. */
  readonly events: readonly EventEnvelope[];
  readonly state: unknown;
}

/** Where a command is decided: the aggregate's state, and what `decide` may know besides it. */
export interface DecideOn {
  readonly aggregateId: string;
  readonly state: unknown;
  readonly version: number;
  readonly now: Date;
  readonly metadata: CommandMetadata;
  readonly newId: () => string;
  /** Who runs it: the command's `allow` rule and `decide` see it. */
  readonly principal?: CommandPrincipal | undefined;
}

/** A command whose name and input were checked, ready to be decided on any state. */
export interface PreparedCommand {
  /**
   * Runs `decide`, turns the drafts into envelopes (data parsed by the event's schema) and folds
   * them with `evolve`, so an event the aggregate cannot apply is never produced. Throws what
   * `decide` or `evolve` threw, or `FORBIDDEN` when the command's `allow` rule refuses.
   */
  decide(on: DecideOn): Decision;
}

/** Options of `prepareCommand`. */
export interface PrepareCommandOptions {
  /**
   * The version of the command's input schema `input` was given at (issue 17: a pending command
   * of an older app); older input goes through the command's upgraders first. Defaults to the
   * current version.
   */
  readonly inputVersion?: number;
}

/**
 * Looks the command up and validates its input once; the command handler decides it again on each
 * conflict retry, and the browser's sync client on the rebased state after a conflict.
 * Throws `UNKNOWN_COMMAND` or `VALIDATION_FAILED` (also for an `inputVersion` it cannot upgrade).
 *
 * @example
 * const add = prepareCommand(Todo, 'add', { title: 'Milk' });
 * const { events, state } = add.decide({ aggregateId: 't1', state: Todo.initialState(), version: 0, now, metadata, newId });
 */
export function prepareCommand(
  aggregate: AnyAggregateDefinition,
  commandName: string,
  input: unknown,
  options: PrepareCommandOptions = {},
): PreparedCommand {
  const command = commandOf(aggregate, commandName);
  const current =
    options.inputVersion === undefined
      ? input
      : upgradeCommandInput(aggregate, commandName, options.inputVersion, input);
  const parsedInput = parseOrThrow(
    command.input,
    current,
    `input for ${aggregate.type}.${commandName}`,
  );
  return {
    decide({ aggregateId, state, version, now, metadata, newId, principal }) {
      if (command.allow !== undefined && !command.allow({ principal, state, input: parsedInput })) {
        throw new ForbiddenError(
          `${principal === undefined ? 'Nobody signed in' : `User ${principal.userId}`} may not run ${aggregate.type}.${commandName} on ${aggregateId}`,
        );
      }
      const context: CommandContext = { aggregateId, version, now, metadata, principal, newId };
      const drafts = command.decide(state, parsedInput, context);
      const events = drafts.map(
        (draft: { type: string; data: unknown; metadata?: EventMetadata }, index: number) => {
          const definition = aggregate.events.get(draft.type);
          const envelope: EventEnvelope = {
            id: newId(),
            type: draft.type,
            schemaVersion: definition.schemaVersion,
            aggregateType: aggregate.type,
            aggregateId,
            version: version + 1 + index,
            occurredAt: now.toISOString(),
            data: definition.parse(draft.data),
            metadata: { ...metadata, ...draft.metadata },
          };
          return envelope;
        },
      );
      return {
        events,
        state: events.reduce(
          (current: unknown, event: EventEnvelope) => aggregate.evolve(current, event as never),
          state,
        ),
      };
    },
  };
}
