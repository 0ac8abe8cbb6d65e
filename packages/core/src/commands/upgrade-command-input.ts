import type { AnyAggregateDefinition } from '../aggregates/aggregate-definition.ts';
import { UnknownCommandError, ValidationFailedError } from '../errors/errors.ts';

/** The command of that name, or `UNKNOWN_COMMAND`. */
export function commandOf(
  aggregate: AnyAggregateDefinition,
  commandName: string,
): AnyAggregateDefinition['commands'][string] {
  const command = Object.hasOwn(aggregate.commands, commandName)
    ? aggregate.commands[commandName]
    : undefined;
  if (command === undefined) throw new UnknownCommandError(aggregate.type, commandName);
  return command;
}

/**
 * The current input version of a command (1 for a bare schema): what a device writes in its
 * pending command rows and pushes, so a later app can upgrade what is still waiting.
 * Throws `UNKNOWN_COMMAND`.
 *
 * @example
 * commandInputVersion(Todo, 'rename'); // 2
 */
export function commandInputVersion(
  aggregate: AnyAggregateDefinition,
  commandName: string,
): number {
  return commandOf(aggregate, commandName).versions?.inputVersion ?? 1;
}

/**
 * Input given at `inputVersion` as input of the command's current version, through its declared
 * upgraders (issue 17: a command executed or pushed by an older app). Input of the current version
 * comes back as it is. Throws `UNKNOWN_COMMAND` for a removed command or a version newer than the
 * command has (`inputVersion`, `knownInputVersion`), and `VALIDATION_FAILED` for a version that is
 * not a positive integer, input invalid at its version, or an upgrader that fails.
 *
 * @example
 * upgradeCommandInput(Todo, 'rename', 1, { text: 'Milk' }); // { title: 'Milk' }
 */
export function upgradeCommandInput(
  aggregate: AnyAggregateDefinition,
  commandName: string,
  inputVersion: number,
  input: unknown,
): unknown {
  const command = commandOf(aggregate, commandName);
  const known = command.versions?.inputVersion ?? 1;
  const where = `${aggregate.type}.${commandName}`;
  if (!Number.isInteger(inputVersion) || inputVersion < 1) {
    throw new ValidationFailedError(`Invalid input version ${String(inputVersion)} of ${where}`, [
      { path: ['inputVersion'], message: 'a positive integer' },
    ]);
  }
  if (inputVersion > known) {
    throw new UnknownCommandError(aggregate.type, commandName, {
      inputVersion,
      knownInputVersion: known,
    });
  }
  if (inputVersion === known || command.versions === undefined) return input;
  try {
    return command.versions.upgrade(inputVersion, input);
  } catch (error) {
    if (error instanceof ValidationFailedError) {
      throw new ValidationFailedError(`${where}: ${error.message}`, error.issues, {
        cause: error,
      });
    }
    throw error;
  }
}
