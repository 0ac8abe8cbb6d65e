/**
 * Drivers return timestamptz as a Date (Neon) or a string (PGlite); the API speaks ISO strings.
 * Every reader of a timestamp column (events, keys, consumer groups, dead letters) goes through
 * this one function.
 */
export function isoTime(value: string | Date): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
