import {
  type AnyAggregateDefinition,
  UnknownCommandError,
  upgradeCommandInput,
} from '@strata/core';
import type { ServerCommand } from './server-command.ts';

/**
 * The command with its input at the command's current version (issue 17: an old app's pending
 * command), so its digest in the command log, its decision and its retries all see one input
 * whichever version the device sent (a device that upgraded its pending row since and pushes
 * again is answered with what was stored). Throws `UNKNOWN_COMMAND` for an aggregate or command
 * the server does not have, or a version newer than it knows, and `VALIDATION_FAILED` for input
 * the upgraders refuse.
 *
 * @example
 * const current = currentInput(aggregates, { ...command, inputVersion: 1 });
 */
export function currentInput(
  aggregates: ReadonlyMap<string, AnyAggregateDefinition>,
  command: ServerCommand,
): ServerCommand {
  const { inputVersion, ...rest } = command;
  if (inputVersion === undefined) return command;
  const aggregate = aggregates.get(command.aggregateType);
  if (aggregate === undefined) throw new UnknownCommandError(command.aggregateType, command.name);
  return {
    ...rest,
    input: upgradeCommandInput(aggregate, command.name, inputVersion, command.input),
  };
}
