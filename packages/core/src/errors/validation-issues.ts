import type { z } from 'zod';
import { ValidationFailedError, type ValidationIssue } from './errors.ts';

/** zod issues as the plain, serialisable issues strata errors carry. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
    message: issue.message,
  }));
}

/**
 * Parses `value` with `schema`, or throws `VALIDATION_FAILED` naming `what` and carrying the
 * issues.
 *
 * @example
 * const push = parseOrThrow(PushRequestSchema, body, 'push request');
 */
export function parseOrThrow<TSchema extends z.ZodType>(
  schema: TSchema,
  value: unknown,
  what: string,
): z.output<TSchema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationFailedError(`Invalid ${what}`, toValidationIssues(result.error), {
    cause: result.error,
  });
}
