import { type ErrorCode, isAnyStrataError } from '../errors/strata-error.ts';

/** Thrown by strata's test helpers; any test runner reports it as a failure. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Structural equality for JSON-like values (plain objects, arrays, primitives, Dates). */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (Object.is(actual, expected)) return true;
  if (actual instanceof Date && expected instanceof Date) {
    return actual.getTime() === expected.getTime();
  }
  if (typeof actual !== 'object' || typeof expected !== 'object') return false;
  if (actual === null || expected === null) return false;
  if (Array.isArray(actual) !== Array.isArray(expected)) return false;
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return (
      actual.length === expected.length && actual.every((item, i) => deepEqual(item, expected[i]))
    );
  }
  const actualKeys = Object.keys(actual).filter((key) => (actual as never)[key] !== undefined);
  const expectedKeys = Object.keys(expected).filter(
    (key) => (expected as never)[key] !== undefined,
  );
  return (
    actualKeys.length === expectedKeys.length &&
    expectedKeys.every((key) => deepEqual((actual as never)[key], (expected as never)[key]))
  );
}

const show = (value: unknown) => JSON.stringify(value, null, 2) ?? String(value);

/** Throws `AssertionError` unless `actual` deep-equals `expected`. */
export function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(`${what}\nexpected: ${show(expected)}\nactual:   ${show(actual)}`);
  }
}

/** Throws `AssertionError` unless `condition` holds. */
export function assertTrue(condition: boolean, what: string): asserts condition {
  if (!condition) throw new AssertionError(what);
}

/** Awaits `work` and returns the strata error of `code` it threw; fails if it did not throw one. */
export async function assertRejectsWith(
  work: () => Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<Error & { code: ErrorCode } & Record<string, unknown>> {
  let outcome: unknown;
  try {
    outcome = await work();
  } catch (error) {
    if (isAnyStrataError(error) && error.code === code) return error as never;
    throw new AssertionError(`${what}: expected ${code}, got ${describeError(error)}`);
  }
  throw new AssertionError(`${what}: expected ${code}, but it succeeded with ${show(outcome)}`);
}

export function describeError(error: unknown): string {
  if (isAnyStrataError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
