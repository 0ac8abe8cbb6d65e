import { z } from 'zod';

/**
 * A whole number in a query string (text) or a parsed body (number), from `min` to `max`. Only
 * plain decimal digits count: not '1e2', ' 5 ' or 'true'.
 */
export function queryInteger(min: number, max: number) {
  return z
    .union([
      z.number(),
      z
        .string()
        .regex(new RegExp(`^[0-9]{1,${String(max).length}}$`), 'must be a whole number')
        .transform(Number),
    ])
    .pipe(z.number().int().min(min).max(max));
}
