import type { $ZodType, input, output } from 'zod/v4/core';
import { ValidationFailedError } from '../errors/errors.ts';
import { safeParseSchema, toValidationIssues } from '../errors/validation-issues.ts';

interface InputVersion {
  readonly schema: $ZodType;
  /** Turns the previous version's parsed input into this one's input; absent for version 1. */
  readonly upgrade?: (previous: never) => unknown;
}

/**
 * A command's input schema with its versions (issue 17): commands executed offline wait in the
 * outbox across app updates, and an old app keeps pushing its own version of the input. Each
 * version after the first has an upgrader from the one before, as event schema versions have
 * upcasters (`defineEvent(...).nextVersion`). `TInput` and `TOutput` are the current version's.
 *
 * @example
 * const AddInput = defineCommandInput(z.object({ text: z.string() }))
 *   .nextVersion(z.object({ title: z.string().min(1) }), (v1) => ({ title: v1.text }));
 * AddInput.inputVersion;                     // 2
 * AddInput.upgrade(1, { text: 'Milk' });     // { title: 'Milk' }
 */
export interface CommandInputDefinition<TInput = unknown, TOutput = unknown> {
  /** The current version: commands are executed, stored and pushed with input of this version. */
  readonly inputVersion: number;
  /** The current version's schema. */
  readonly schema: $ZodType<TOutput, TInput>;
  /**
   * Input of version `fromVersion` (1 to `inputVersion`) as input of the current version: it is
   * validated at each version on the way and handed to the upgraders (input of the current
   * version comes back as it is, for the command to parse). Throws `VALIDATION_FAILED` when a
   * version's schema refuses it, an upgrader throws, or the result is not valid current input;
   * a `RangeError` for a version this definition does not have.
   */
  upgrade(fromVersion: number, input: unknown): TInput;
  /** A definition with one more version, reached from this one by `upgrade`. */
  nextVersion<TSchema extends $ZodType>(
    schema: TSchema,
    upgrade: (previous: TOutput) => input<TSchema>,
  ): CommandInputDefinition<input<TSchema>, output<TSchema>>;
}

/** Any versioned command input, whatever its types. */
// biome-ignore lint/suspicious/noExplicitAny: variance escape hatch for command factories
export type AnyCommandInputDefinition = CommandInputDefinition<any, any>;

/**
 * Declares a command's input at version 1; add versions with `.nextVersion(schema, upgrade)` and
 * hand the result to `command(...)` in `withCommands` instead of a bare schema. A bare schema is
 * a command input with one version.
 *
 * @example
 * const RenameInput = defineCommandInput(z.object({ text: z.string() }))
 *   .nextVersion(z.object({ title: z.string() }), (v1) => ({ title: v1.text }));
 * const Todo = defineAggregate({ ... }).withCommands((command) => ({
 *   rename: command(RenameInput, (state, input) => [{ type: 'TodoRenamed', data: input }]),
 * }));
 */
export function defineCommandInput<TSchema extends $ZodType>(
  schema: TSchema,
): CommandInputDefinition<input<TSchema>, output<TSchema>> {
  return createDefinition([{ schema }]);
}

/** True for what `defineCommandInput` makes (a zod schema is not one). */
export function isCommandInputDefinition(value: unknown): value is AnyCommandInputDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { upgrade?: unknown }).upgrade === 'function' &&
    typeof (value as { inputVersion?: unknown }).inputVersion === 'number' &&
    typeof (value as { nextVersion?: unknown }).nextVersion === 'function'
  );
}

function createDefinition<TInput, TOutput>(
  versions: readonly InputVersion[],
): CommandInputDefinition<TInput, TOutput> {
  const current = versions.length;
  const currentSchema = versions[current - 1]?.schema as $ZodType<TOutput, TInput>;

  const validate = (schema: $ZodType, data: unknown, version: number): unknown => {
    const result = safeParseSchema(schema, data);
    if (result.success) return result.data;
    throw new ValidationFailedError(
      `Invalid command input of version ${version}`,
      toValidationIssues(result.error),
      { cause: result.error },
    );
  };

  return {
    inputVersion: current,
    schema: currentSchema,
    upgrade(fromVersion, input) {
      if (!Number.isInteger(fromVersion) || fromVersion < 1 || fromVersion > current) {
        throw new RangeError(
          `No input version ${fromVersion}: versions are 1 to ${current} (checked by upgradeCommandInput)`,
        );
      }
      if (fromVersion === current) return input as TInput;
      let parsed = validate(versions[fromVersion - 1]?.schema as $ZodType, input, fromVersion);
      let raw: unknown = input;
      for (let next = fromVersion + 1; next <= current; next++) {
        const step = versions[next - 1] as InputVersion;
        try {
          raw = (step.upgrade as (previous: unknown) => unknown)(parsed);
        } catch (error) {
          // An upgrader is app code; one that is not total refuses this input only.
          if (error instanceof ValidationFailedError) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          throw new ValidationFailedError(
            `Command input of version ${next - 1} could not be upgraded to version ${next}: ${reason}`,
            [],
            { cause: error },
          );
        }
        // What an upgrader made must be valid input of its version, the current one included.
        parsed = validate(step.schema, raw, next);
      }
      return raw as TInput;
    },
    nextVersion(schema, upgrade) {
      return createDefinition([...versions, { schema, upgrade: upgrade as never }]);
    },
  };
}
