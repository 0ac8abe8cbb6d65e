import {
  type $ZodError,
  type $ZodErrorMap,
  type $ZodType,
  config,
  type output,
  safeParse,
  type util,
} from 'zod/v4/core';
// English only: `zod` (classic) would load its locales index (264 KB minified) into every
// browser bundle; this one file is ~3 KB and says the same as classic zod's default.
import english from 'zod/v4/locales/en.js';
import { ValidationFailedError, type ValidationIssue } from './errors.ts';

const englishError: $ZodErrorMap = english().localeError;

/**
 * The message of an issue its schema gave none for: the app's zod configuration when it set one
 * (`z.config({ customError })` or a locale), else English. Without this a schema built with
 * `zod/mini` in an app that loads no locale would say only "Invalid input".
 */
const issueMessage: $ZodErrorMap = (issue) => {
  const { customError, localeError } = config();
  return customError?.(issue) ?? localeError?.(issue) ?? englishError(issue);
};

/**
 * `schema.safeParse(value)` for any zod 4 schema, classic (`zod`) or `zod/mini` alike, with
 * messages that are never the bare "Invalid input" (see `issueMessage`). Strata parses every
 * schema, its own and the app's, through this.
 *
 * @example
 * const result = safeParseSchema(CursorSchema, query.after);
 * if (!result.success) console.log(toValidationIssues(result.error));
 */
export function safeParseSchema<TSchema extends $ZodType>(
  schema: TSchema,
  value: unknown,
): util.SafeParseResult<output<TSchema>> {
  // The result as zod makes it: its `error` is built on first read, so a caller that only
  // looks at `success` (isEncryptedPayload, on every event it serves) never pays for it.
  return safeParse(schema, value, { error: issueMessage });
}

/** zod issues as the plain, serialisable issues strata errors carry. */
export function toValidationIssues(error: $ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
    message: issue.message,
  }));
}

/**
 * Parses `value` with `schema` (any zod 4 schema), or throws `VALIDATION_FAILED` naming `what`
 * and carrying the issues.
 *
 * @example
 * const push = parseOrThrow(PushRequestSchema, body, 'push request');
 */
export function parseOrThrow<TSchema extends $ZodType>(
  schema: TSchema,
  value: unknown,
  what: string,
): output<TSchema> {
  const result = safeParseSchema(schema, value);
  if (result.success) return result.data;
  throw new ValidationFailedError(`Invalid ${what}`, toValidationIssues(result.error), {
    cause: result.error,
  });
}
