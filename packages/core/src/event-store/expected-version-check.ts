// The checks live apart from the ExpectedVersion type so errors.ts can name the type without an
// import cycle (errors -> expected-version -> errors), issue 13.
import { ValidationFailedError, VersionConflictError } from '../errors/errors.ts';
import { ANY, type ExpectedVersion, NO_STREAM, STREAM_EXISTS } from './expected-version.ts';
import type { StreamRef } from './stream-ref.ts';

/** Throws `VALIDATION_FAILED` for exact versions that are not positive integers (0 included). */
export function assertValidExpectedVersion(expected: ExpectedVersion): void {
  if (expected === ANY || expected === NO_STREAM || expected === STREAM_EXISTS) return;
  if (!Number.isSafeInteger(expected) || expected < 1) {
    throw new ValidationFailedError(
      `Expected version ${String(expected)} is not valid: use a version >= 1, NO_STREAM, STREAM_EXISTS or ANY`,
      [{ path: ['expectedVersion'], message: 'must be a positive integer or a sentinel' }],
    );
  }
}

/** Whether a stream whose last event has `actualVersion` (0 when empty) satisfies `expected`. */
export function matchesExpectedVersion(expected: ExpectedVersion, actualVersion: number): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return actualVersion === 0;
    case STREAM_EXISTS:
      return actualVersion > 0;
    default:
      return expected >= 1 && actualVersion === expected;
  }
}

/**
 * Throws `VERSION_CONFLICT`, carrying both versions, unless the stream satisfies `expected`.
 *
 * @example
 * assertExpectedVersion(ref, NO_STREAM, 0); // passes
 * assertExpectedVersion(ref, 2, 3);         // throws VersionConflictError(expected 2, actual 3)
 */
export function assertExpectedVersion(
  stream: StreamRef,
  expected: ExpectedVersion,
  actualVersion: number,
): void {
  assertValidExpectedVersion(expected);
  if (!matchesExpectedVersion(expected, actualVersion)) {
    throw new VersionConflictError(stream, expected, actualVersion);
  }
}
