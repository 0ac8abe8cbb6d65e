import type { $ZodType, input, output } from 'zod/v4/core';
import { type ForgottenEvent, isForgottenEvent } from '../crypto/forgotten.ts';
import type { EventMetadata } from '../events/event.ts';
import type { AnyEventDefinition, EventDataOf } from '../events/event-definition.ts';
import {
  createEventRegistry,
  type EventOfDefinition,
  type EventRegistry,
} from '../events/event-registry.ts';
import type { JsonValue } from '../events/json.ts';
import { snapshotFingerprint } from '../snapshots/snapshot-fingerprint.ts';
import { everyNVersions, type SnapshotPolicy } from '../snapshots/snapshot-policy.ts';
import {
  type AnyCommandInputDefinition,
  type CommandInputDefinition,
  isCommandInputDefinition,
} from './command-input.ts';
import type { CommandPrincipal, CommandRule } from './command-principal.ts';

/**
 * What `decide` returns for each new event: its type and data. The envelope (id, version,
 * times, metadata) is filled in by command execution.
 */
export type EventDraftOf<TDefinition> = TDefinition extends AnyEventDefinition
  ? {
      readonly type: TDefinition['type'];
      readonly data: EventDataOf<TDefinition>;
      /** App metadata keys for this event only. */
      readonly metadata?: { readonly [key: string]: JsonValue };
    }
  : never;

/** Metadata of the command being decided, as it will be written into its events. */
export interface CommandMetadata extends EventMetadata {
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
}

/**
 * What `decide` may know besides state and input, the same in the browser and on the server.
 * Keeps `decide` pure: no clock, no globals, no random ids of its own.
 */
export interface CommandContext {
  readonly aggregateId: string;
  /** The aggregate's version before this command, 0 when it has no events. */
  readonly version: number;
  /**
   * The time of the decision, the same for every event the command produces: the device's clock
   * for the prediction, the server's for what is stored.
   */
  readonly now: Date;
  readonly metadata: CommandMetadata;
  /** Who runs the command; undefined where nobody is signed in. */
  readonly principal: CommandPrincipal | undefined;
  /** Ids for entities the command creates (KSUIDs unless configured). */
  readonly newId: () => string;
}

/** One command: its zod input schema (classic `zod` or `zod/mini`) and the pure `decide` that turns state and input into events. */
export interface CommandDefinition<TInput, TParsedInput, TState, TDraft> {
  readonly input: $ZodType<TParsedInput, TInput>;
  readonly decide: (
    state: TState,
    input: TParsedInput,
    context: CommandContext,
  ) => readonly TDraft[];
  /** Who may run it (checked before `decide`, in the browser and again on the server). */
  readonly allow?: CommandRule<TState, TParsedInput> | undefined;
  /**
   * The input's versions, when it was declared with `defineCommandInput` (`input` is the
   * current version's schema); undefined for a bare schema: one version, 1.
   */
  readonly versions?: CommandInputDefinition<TInput, TParsedInput> | undefined;
}

/** Options of one command beyond its schema and `decide`. */
export interface CommandOptions<TState, TParsedInput> {
  /** Who may run it: false refuses with `FORBIDDEN`, before `decide`. Defaults to everyone. */
  readonly allow?: CommandRule<TState, TParsedInput>;
}

// biome-ignore lint/suspicious/noExplicitAny: variance escape hatch for maps of commands
type AnyCommandDefinition = CommandDefinition<any, any, any, any>;

/** How an aggregate's snapshots are written and recognised. */
export interface SnapshotOptions<TState> {
  /** Schema of the state; decides the fingerprint and validates loaded snapshots. */
  readonly schema: $ZodType<TState>;
  /** When to snapshot. Defaults to `everyNVersions(100)`. */
  readonly policy?: SnapshotPolicy;
  /** Bump when `evolve` changes meaning without a schema change, to retire old snapshots. */
  readonly revision?: string;
  /**
   * Scoped sync: a device back-filling a scope may start this aggregate from the server's
   * snapshot instead of its whole history (older events are read on demand). Needs every
   * browser inline projection of the aggregate to have `fromState`. Off unless set.
   */
  readonly bootstrap?: boolean;
}

/** Configuration of `defineAggregate`. */
export interface AggregateConfig<TType extends string, TState, TEvents extends AnyEventDefinition> {
  /** The aggregate type; part of every stream's identity. */
  readonly type: TType;
  /** Every event type this aggregate emits or has emitted. */
  readonly events: readonly TEvents[];
  /** The state before the first event. Called once per load, so it may return a fresh object. */
  readonly initialState: () => TState;
  /** Applies one event to the state. Pure: the same (state, event) gives the same state. */
  readonly evolve: (state: TState, event: EventOfDefinition<TEvents>) => TState;
  /**
   * Applies an event whose data was forgotten (its key deleted, issue 7): e.g. blank what it
   * had set. Pure, like `evolve`. Defaults to leaving the state as it is; the version advances
   * either way.
   */
  readonly forget?: (state: TState, event: ForgottenEvent<EventOfDefinition<TEvents>>) => TState;
  /** Snapshots are off unless configured. */
  readonly snapshots?: SnapshotOptions<TState>;
}

/** Snapshot settings with defaults applied and the fingerprint computed once. */
export interface ResolvedSnapshotOptions<TState> {
  readonly schema: $ZodType<TState>;
  readonly policy: SnapshotPolicy;
  readonly fingerprint: string;
  /** Devices may bootstrap from the server's snapshots (`SnapshotOptions.bootstrap`). */
  readonly bootstrap: boolean;
}

/**
 * An aggregate: the same definition decides and applies events in the browser, on the server and
 * in tests. Built by `defineAggregate(...).withCommands(...)`.
 */
export interface AggregateDefinition<
  TType extends string = string,
  TState = unknown,
  TEvents extends AnyEventDefinition = AnyEventDefinition,
  TCommands extends Record<string, AnyCommandDefinition> = Record<string, AnyCommandDefinition>,
> {
  readonly type: TType;
  readonly events: EventRegistry<TEvents>;
  readonly initialState: () => TState;
  /**
   * Applies a decoded event: `evolve` of the configuration, or `forget` for an event whose data
   * was forgotten, so every replay handles both.
   */
  readonly evolve: (
    state: TState,
    event: EventOfDefinition<TEvents> | ForgottenEvent<EventOfDefinition<TEvents>>,
  ) => TState;
  readonly commands: TCommands;
  readonly snapshots: ResolvedSnapshotOptions<TState> | undefined;
  /**
   * Adds commands. `command(schema, decide)` infers each command's input from its schema and
   * types `decide` against this aggregate's state and events.
   */
  withCommands<TNewCommands extends Record<string, AnyCommandDefinition>>(
    build: (command: CommandFactory<TState, EventDraftOf<TEvents>>) => TNewCommands,
  ): AggregateDefinition<TType, TState, TEvents, TCommands & TNewCommands>;
}

/** What `command(...)` takes as input: a zod schema, or a versioned one (`defineCommandInput`). */
export type CommandInputSpec = $ZodType | AnyCommandInputDefinition;

/** The caller's input type of a command input spec (before defaults and transforms). */
export type SpecInput<TSpec> =
  TSpec extends CommandInputDefinition<infer TInput, unknown>
    ? TInput
    : TSpec extends $ZodType
      ? input<TSpec>
      : never;

/** What `decide` gets from a command input spec (after defaults and transforms). */
export type SpecOutput<TSpec> =
  TSpec extends CommandInputDefinition<unknown, infer TOutput>
    ? TOutput
    : TSpec extends $ZodType
      ? output<TSpec>
      : never;

/**
 * The `command` helper handed to `withCommands`: `command(schema, decide)`, or
 * `command(defineCommandInput(v1).nextVersion(v2, upgrade), decide)` for an input whose schema
 * changed since commands were executed with it (`decide` gets the current version).
 */
export type CommandFactory<TState, TDraft> = <TSpec extends CommandInputSpec>(
  input: TSpec,
  decide: (state: TState, input: SpecOutput<TSpec>, context: CommandContext) => readonly TDraft[],
  options?: CommandOptions<TState, SpecOutput<TSpec>>,
) => CommandDefinition<SpecInput<TSpec>, SpecOutput<TSpec>, TState, TDraft>;

/** Any aggregate definition, whatever its types. */
// biome-ignore lint/suspicious/noExplicitAny: variance escape hatch for collections of aggregates
export type AnyAggregateDefinition = AggregateDefinition<string, any, AnyEventDefinition, any>;

/** The state type of an aggregate definition. */
export type StateOf<TAggregate> = TAggregate extends { initialState: () => infer TState }
  ? TState
  : never;

/** The event definitions of an aggregate definition, as a union. */
export type EventDefinitionsOf<TAggregate> = TAggregate extends {
  events: { definitions: readonly (infer TDefinition)[] };
}
  ? TDefinition
  : never;

/** The decoded event union of an aggregate definition. */
export type EventOf<TAggregate> = EventOfDefinition<EventDefinitionsOf<TAggregate>>;

/** The names of an aggregate's commands. */
export type CommandName<TAggregate> = TAggregate extends { commands: infer TCommands }
  ? Extract<keyof TCommands, string>
  : never;

/** What a caller passes to a command (zod input type: before defaults and transforms). */
export type CommandInput<TAggregate, TName extends CommandName<TAggregate>> = TAggregate extends {
  commands: infer TCommands;
}
  ? TCommands[TName & keyof TCommands] extends { input: $ZodType<unknown, infer TInput> }
    ? TInput
    : never
  : never;

/**
 * Declares an aggregate from its event definitions, initial state and `evolve`; add commands
 * with `.withCommands`.
 *
 * @example
 * const Counter = defineAggregate({
 *   type: 'Counter',
 *   events: [Incremented],
 *   initialState: () => ({ count: 0 }),
 *   evolve: (state, event) => ({ count: state.count + event.data.by }),
 * }).withCommands((command) => ({
 *   increment: command(z.object({ by: z.number().int().positive() }), (_state, input) => [
 *     { type: 'Incremented', data: { by: input.by } },
 *   ]),
 * }));
 */
export function defineAggregate<TType extends string, TState, TEvents extends AnyEventDefinition>(
  config: AggregateConfig<TType, TState, TEvents>,
): AggregateDefinition<TType, TState, TEvents, Record<never, AnyCommandDefinition>> {
  const snapshots =
    config.snapshots === undefined
      ? undefined
      : {
          schema: config.snapshots.schema,
          policy: config.snapshots.policy ?? everyNVersions(100),
          fingerprint: snapshotFingerprint(
            config.type,
            config.snapshots.schema,
            config.snapshots.revision,
          ),
          bootstrap: config.snapshots.bootstrap === true,
        };
  return build(config, createEventRegistry(config.events), snapshots, {});
}

function build<TType extends string, TState, TEvents extends AnyEventDefinition, TCommands>(
  config: AggregateConfig<TType, TState, TEvents>,
  events: EventRegistry<TEvents>,
  snapshots: ResolvedSnapshotOptions<TState> | undefined,
  commands: TCommands & Record<string, AnyCommandDefinition>,
): AggregateDefinition<TType, TState, TEvents, TCommands & Record<string, AnyCommandDefinition>> {
  const { forget = (state: TState) => state } = config;
  return {
    type: config.type,
    events,
    initialState: config.initialState,
    evolve: (state, event) =>
      isForgottenEvent(event)
        ? forget(state, event as ForgottenEvent<EventOfDefinition<TEvents>>)
        : config.evolve(state, event as EventOfDefinition<TEvents>),
    commands,
    snapshots,
    withCommands(factory) {
      const added = factory((input, decide, commandOptions) => ({
        input: (isCommandInputDefinition(input) ? input.schema : input) as never,
        decide,
        allow: commandOptions?.allow,
        versions: isCommandInputDefinition(input) ? input : undefined,
      }));
      for (const name of Object.keys(added)) {
        if (name in commands) throw new TypeError(`Command "${name}" is defined twice`);
      }
      return build(config, events, snapshots, { ...commands, ...added }) as never;
    },
  };
}
