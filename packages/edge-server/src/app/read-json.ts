import { ValidationFailedError } from '@strata/core';

/**
 * The request body as JSON; invalid JSON is `VALIDATION_FAILED` (a 400 problem), never a crash.
 * An empty body reads as `empty` when one is given (routes whose body is optional).
 */
export async function readJson(request: Request, empty?: unknown): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '' && empty !== undefined) return empty;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationFailedError('The body is not valid JSON', [], { cause: error });
  }
}
