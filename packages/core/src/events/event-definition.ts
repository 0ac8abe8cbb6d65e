import type { $ZodType, input, output } from 'zod/v4/core';
import { UnknownEventTypeError, ValidationFailedError } from '../errors/errors.ts';
import { safeParseSchema, toValidationIssues } from '../errors/validation-issues.ts';

interface SchemaVersion {
  readonly schema: $ZodType;
  /** Turns data of the previous schema version into this one's; absent for version 1. */
  readonly upcast?: (previous: never) => unknown;
}

/**
 * One event type: its name, the zod schema of each schema version (classic `zod` or `zod/mini`), and the upcasters that
 * carry old data forward. `Data` is the current version's data type.
 *
 * @example
 * const TodoRenamed = defineEvent('TodoRenamed', z.object({ text: z.string() }))
 *   .nextVersion(z.object({ title: z.string() }), (v1) => ({ title: v1.text }));
 * TodoRenamed.schemaVersion;                        // 2
 * TodoRenamed.decode(1, { text: 'Milk' });          // { title: 'Milk' }
 */
export interface EventDefinition<TType extends string = string, TData = unknown> {
  readonly type: TType;
  /** The current schema version: events are created at this version. */
  readonly schemaVersion: number;
  /** The current version's schema. */
  readonly schema: $ZodType<TData>;
  /**
   * Validates stored data of `schemaVersion` and upcasts it to the current version.
   * Throws `UNKNOWN_EVENT_TYPE` for a schema version this definition does not know and
   * `VALIDATION_FAILED` for data that does not match.
   */
  decode(schemaVersion: number, data: unknown): TData;
  /** Validates data of the current version (throws `VALIDATION_FAILED`). */
  parse(data: unknown): TData;
  /** A definition with one more schema version, reached from this one by `upcast`. */
  nextVersion<TSchema extends $ZodType>(
    schema: TSchema,
    upcast: (previous: TData) => input<TSchema>,
  ): EventDefinition<TType, output<TSchema>>;
}

/** Any event definition, whatever its type and data. */
// biome-ignore lint/suspicious/noExplicitAny: variance escape hatch for collections of definitions
export type AnyEventDefinition = EventDefinition<string, any>;

/** The data type of an event definition's current schema version. */
export type EventDataOf<TDefinition> =
  TDefinition extends EventDefinition<string, infer TData> ? TData : never;

/**
 * Declares an event type at schema version 1. Event data must be JSON: it is stored and sent
 * as JSON and decoded with the schema when read.
 *
 * @example
 * const TodoAdded = defineEvent('TodoAdded', z.object({ title: z.string() }));
 */
export function defineEvent<TType extends string, TSchema extends $ZodType>(
  type: TType,
  schema: TSchema,
): EventDefinition<TType, output<TSchema>> {
  if (typeof type !== 'string' || type.length === 0) {
    throw new TypeError('An event type needs a non-empty name');
  }
  return createDefinition(type, [{ schema }]);
}

function createDefinition<TType extends string, TData>(
  type: TType,
  versions: readonly SchemaVersion[],
): EventDefinition<TType, TData> {
  const current = versions.length;
  const currentSchema = versions[current - 1]?.schema as $ZodType<TData>;

  const validate = (schema: $ZodType, data: unknown, schemaVersion: number): unknown => {
    const result = safeParseSchema(schema, data);
    if (result.success) return result.data;
    throw new ValidationFailedError(
      `Invalid data for event ${type} (schema version ${schemaVersion})`,
      toValidationIssues(result.error),
      { cause: result.error },
    );
  };

  return {
    type,
    schemaVersion: current,
    schema: currentSchema,
    parse: (data) => validate(currentSchema, data, current) as TData,
    decode(schemaVersion, data) {
      const from = versions[schemaVersion - 1];
      if (!Number.isInteger(schemaVersion) || from === undefined) {
        throw new UnknownEventTypeError(type, schemaVersion);
      }
      let value = validate(from.schema, data, schemaVersion);
      if (schemaVersion === current) return value as TData;
      for (let next = schemaVersion; next < current; next++) {
        const upcast = versions[next]?.upcast as (previous: unknown) => unknown;
        value = upcast(value);
      }
      // An upcaster is app code: check that what it made is valid current data.
      return validate(currentSchema, value, current) as TData;
    },
    nextVersion(schema, upcast) {
      return createDefinition(type, [...versions, { schema, upcast: upcast as never }]);
    },
  };
}
