/** A writer that keeps losing races with `ANY` is told so after this many tries. */
export const MAX_APPEND_ATTEMPTS = 5;

/** A concurrent writer stored the same version or id first (a unique index of the events). */
export function isEventUniqueViolation(error: unknown): boolean {
  const { code, table, constraint } = (error ?? {}) as Record<string, unknown>;
  return (
    code === '23505' &&
    (table === 'strata_events' ||
      (typeof constraint === 'string' && constraint.startsWith('strata_events_')))
  );
}

/**
 * Runs `attempt` (one append's transaction) again while a concurrent writer beat it to a version
 * or id, up to `MAX_APPEND_ATTEMPTS` tries: `raced` tells the next try to decide against what
 * that writer stored (a retry's confirmation, or a typed conflict). Any other error, and the
 * last try's, reaches the caller unchanged.
 *
 * @example
 * return withAppendRetries((raced) => db.transaction((tx) => appendWithin(tx, raced)));
 */
export async function withAppendRetries<T>(attempt: (raced: boolean) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(tries > 1);
    } catch (error) {
      if (tries >= MAX_APPEND_ATTEMPTS || !isEventUniqueViolation(error)) throw error;
    }
  }
}
