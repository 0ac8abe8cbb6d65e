import {
  type AnyAggregateDefinition,
  type EventMetadata,
  type LoadedAggregate,
  prepareCommand,
} from '@strata/core';
import type { ServerCommand } from './server-command.ts';
import { commandPrincipal, type WriterIdentity } from './stamped-metadata.ts';

/** What `decide` answers: the events and the state after them. */
type Decision = ReturnType<ReturnType<typeof prepareCommand>['decide']>;

/** What a server decision needs besides the command and its aggregate's state. */
export interface ServerDecisionContext {
  /** The metadata stamped on the command's events (stampedMetadata). */
  readonly metadata: EventMetadata;
  readonly now: Date;
  readonly newId: () => string;
}

/**
 * Runs the command's `decide` on the server's state, as the writer, with the command id as the
 * correlation and causation ids unless the metadata names them: the one decision `decide` and
 * `verify` (command-authority.ts) and the batched decisions (decide-batch.ts) share. Throws the
 * command's refusal.
 *
 * @example
 * const { events, state } = decideOnServer(Cart, command, loaded, writer, { metadata, now, newId });
 */
export function decideOnServer(
  aggregate: AnyAggregateDefinition,
  command: ServerCommand,
  loaded: LoadedAggregate<unknown>,
  writer: WriterIdentity,
  context: ServerDecisionContext,
): Decision {
  const { metadata } = context;
  return prepareCommand(aggregate, command.name, command.input).decide({
    aggregateId: command.aggregateId,
    state: loaded.state,
    version: loaded.version,
    now: context.now,
    metadata: {
      ...metadata,
      commandId: command.commandId,
      correlationId: metadata.correlationId ?? command.commandId,
      causationId: metadata.causationId ?? command.commandId,
    },
    newId: context.newId,
    principal: commandPrincipal(writer.principal),
  });
}
