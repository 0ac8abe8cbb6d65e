import * as z from 'zod/mini';

/**
 * A whole number in a query string (text) or a parsed body (number), from `min` to `max`. Only
 * plain decimal digits count: not '1e2', ' 5 ' or 'true'.
 */
export function queryInteger(min: number, max: number) {
  return z.pipe(
    z.union([
      z.number(),
      z.pipe(
        z
          .string()
          .check(z.regex(new RegExp(`^[0-9]{1,${String(max).length}}$`), 'must be a whole number')),
        z.transform(Number),
      ),
    ]),
    z.number().check(z.int(), z.minimum(min), z.maximum(max)),
  );
}
