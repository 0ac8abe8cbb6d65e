import {
  type AnyAggregateDefinition,
  type CommandDefinition,
  DomainRuleViolatedError,
  isStrataError,
} from '@strata/core';

/**
 * The aggregate as the server runs it: a plain error thrown by a command's `decide` or `allow`,
 * or by `evolve`, becomes `DOMAIN_RULE_VIOLATED` (its name as the reason, its message kept).
 * Without this an app's `throw new Error('nope')`, or a TypeError on odd input, would fail the
 * whole push with a 500 on every retry and block the device's queue; now it refuses that commit.
 * Strata errors pass through unchanged.
 */
export function withTypedRefusals<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
): TAggregate {
  const commands = Object.fromEntries(
    Object.entries(aggregate.commands as Record<string, AnyCommand>).map(([name, command]) => [
      name,
      {
        ...command,
        decide: typed(command.decide),
        allow: command.allow === undefined ? undefined : typed(command.allow),
      },
    ]),
  );
  return { ...aggregate, commands, evolve: typed(aggregate.evolve) };
}

type AnyCommand = CommandDefinition<unknown, unknown, unknown, unknown>;

function typed<TArgs extends unknown[], TResult>(
  run: (...args: TArgs) => TResult,
): (...args: TArgs) => TResult {
  return (...args) => {
    try {
      return run(...args);
    } catch (error) {
      if (isStrataError(error)) throw error;
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw new DomainRuleViolatedError(name, message, { cause: error });
    }
  };
}
