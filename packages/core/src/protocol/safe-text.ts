import * as z from 'zod/mini';

// Postgres `text` and `jsonb` cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8
// form: drivers store it as U+FFFD, so `x\ud800` and `x\udbff` would become one aggregate id
// and a retry would no longer match what was stored (issue 12, items 8 and 9). Refusing such
// strings at the protocol boundary keeps every stored string equal to the one that was sent.
const UNSAFE_TEXT = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `text` cannot be stored faithfully (a NUL character or a lone surrogate), or undefined
 * when it can.
 *
 * @example
 * unsafeTextReason('a\u0000b'); // 'must not contain the NUL character (U+0000)'
 * unsafeTextReason('plain'); // undefined
 */
export function unsafeTextReason(text: string): string | undefined {
  const match = UNSAFE_TEXT.exec(text);
  if (match === null) return undefined;
  return match[0] === '\0'
    ? 'must not contain the NUL character (U+0000)'
    : `must not contain a lone surrogate (U+${match[0].charCodeAt(0).toString(16).toUpperCase()} at ${match.index})`;
}

/**
 * Whether `text` survives a round trip through Postgres `text`/`jsonb` unchanged.
 *
 * @example
 * isSafeText('x\ud800'); // false
 * isSafeText('😀'); // true (a surrogate pair is fine)
 */
export function isSafeText(text: string): boolean {
  return !UNSAFE_TEXT.test(text);
}

/**
 * A string that Postgres stores faithfully: no NUL, no lone surrogates. Bound it further with
 * `z.minLength`/`z.maxLength` checks where needed.
 *
 * @example
 * const ErrorText = SafeTextSchema.check(z.minLength(1), z.maxLength(4000));
 */
export const SafeTextSchema = z.string().check((ctx) => {
  const reason = unsafeTextReason(ctx.value);
  if (reason !== undefined) ctx.issues.push({ code: 'custom', message: reason, input: ctx.value });
});

/**
 * The earliest instant the protocol accepts (year 0001, UTC).
 *
 * @example
 * Date.parse(occurredAt) >= Date.parse(MIN_TIMESTAMP);
 */
export const MIN_TIMESTAMP = '0001-01-01T00:00:00.000Z';
/**
 * The latest instant the protocol accepts (year 9999, UTC).
 *
 * @example
 * Date.parse(occurredAt) <= Date.parse(MAX_TIMESTAMP);
 */
export const MAX_TIMESTAMP = '9999-12-31T23:59:59.999Z';
const MIN_TIME = Date.parse(MIN_TIMESTAMP);
const MAX_TIME = Date.parse(MAX_TIMESTAMP);

/**
 * An ISO 8601 date-time with an offset whose instant lies in years 0001..9999 UTC: what
 * `timestamptz` stores and what `Date#toISOString` writes back in the same shape (year 0 and
 * five-digit years would not round-trip).
 *
 * @example
 * parseOrThrow(TimestampSchema, '2026-12-01T10:00:00+02:00', 'timestamp');
 */
export const TimestampSchema = z.iso.datetime({ offset: true }).check((ctx) => {
  // Postgres keeps microseconds and rounds finer fractions, which JavaScript truncates to
  // milliseconds: a 7-digit fraction would read back as another instant and an honest retry
  // would look like a different event (DUPLICATE_EVENT_ID).
  if (/\.\d{7,}/.test(ctx.value)) {
    ctx.issues.push({
      code: 'custom',
      message: 'must have at most 6 fractional digits (microseconds)',
      input: ctx.value,
    });
    return;
  }
  const time = Date.parse(ctx.value);
  if (!(time >= MIN_TIME && time <= MAX_TIME)) {
    ctx.issues.push({
      code: 'custom',
      message: `must lie between ${MIN_TIMESTAMP} and ${MAX_TIMESTAMP}`,
      input: ctx.value,
    });
  }
});

/**
 * The largest Postgres `integer` (int4): versions and other integer columns stop here.
 *
 * @example
 * const fromVersion = queryInteger(1, MAX_INT4);
 */
export const MAX_INT4 = 2_147_483_647;
