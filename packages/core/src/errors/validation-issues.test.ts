import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as classic from 'zod';
import * as mini from 'zod/mini';
import { config } from 'zod/v4/core';
import { NameSchema } from '../protocol/event-schemas.ts';
import { toProblemDetails } from '../protocol/problem-details.ts';
import { ValidationFailedError } from './errors.ts';
import { parseOrThrow, safeParseSchema, toValidationIssues } from './validation-issues.ts';

// An app that uses only strata and zod/mini loads no zod locale: zod's own default for an issue
// is then the bare "Invalid input". Classic zod (imported by other tests in this process) sets
// English as a global default on its first schema, so each test here runs with it cleared.
let saved: ReturnType<typeof config>;
beforeEach(() => {
  saved = { ...config() };
  config({ localeError: undefined, customError: undefined });
});
afterEach(() => {
  config({ localeError: saved.localeError, customError: saved.customError });
});

function messages(result: ReturnType<typeof safeParseSchema>): string[] {
  if (result.success) throw new Error('expected the value to be rejected');
  return toValidationIssues(result.error).map((issue) => issue.message);
}

describe('safeParseSchema without a zod locale', () => {
  it('says what was wrong where zod alone would say "Invalid input"', () => {
    const schema = mini.object({ title: mini.string().check(mini.minLength(1)) });
    // The check can fail: zod/mini's own parse gives the terse message.
    const bare = mini.safeParse(schema, { title: 42 });
    expect(bare.success === false && bare.error.issues[0]?.message).toBe('Invalid input');

    expect(messages(safeParseSchema(schema, { title: 42 }))).toEqual([
      'Invalid input: expected string, received number',
    ]);
    expect(messages(safeParseSchema(schema, { title: '' }))).toEqual([
      'Too small: expected string to have >=1 characters',
    ]);
    expect(messages(safeParseSchema(mini.strictObject({}), { extra: 1 }))).toEqual([
      'Unrecognized key: "extra"',
    ]);
  });

  it('parses classic zod schemas alike', () => {
    const schema = classic.z.object({ count: classic.z.number().int() });
    expect(safeParseSchema(schema, { count: 2 })).toEqual({ success: true, data: { count: 2 } });
    expect(messages(safeParseSchema(schema, { count: 'x' }))).toEqual([
      'Invalid input: expected number, received string',
    ]);
  });

  it("keeps a schema's own message and strata's custom issues", () => {
    const schema = mini.string().check(mini.minLength(3, 'at least three letters'));
    expect(messages(safeParseSchema(schema, 'ab'))).toEqual(['at least three letters']);
    expect(messages(safeParseSchema(NameSchema, 'a\u0000b'))).toEqual([
      'must not contain the NUL character (U+0000)',
    ]);
  });

  it("lets the app's zod configuration speak when it has one", () => {
    config({ customError: (issue) => `app says: ${issue.code}` });
    expect(messages(safeParseSchema(mini.string(), 1))).toEqual(['app says: invalid_type']);
  });

  it('puts the English message into VALIDATION_FAILED and its problem details', () => {
    let thrown: unknown;
    try {
      parseOrThrow(mini.object({ aggregateId: NameSchema }), { aggregateId: 7 }, 'command');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationFailedError);
    const problem = toProblemDetails(thrown);
    expect(problem).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      detail: 'Invalid command',
      issues: [
        { path: ['aggregateId'], message: 'Invalid input: expected string, received number' },
      ],
    });
  });
});
