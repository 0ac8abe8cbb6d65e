// Aggregate types this app version defines nowhere (issue 17): their events are stored and not
// decoded by anything (only projections without an aggregate see them, as they are), so they
// are not kept as unreadable and hold nothing. Their types are noted, so that a later version
// that defines one runs that type's stored events through its typed projections, once.
import type { StrataDatabase } from '../database/strata-database.ts';

/** The sync state key of the aggregate types events came in for that no definition reads. */
export const UNDEFINED_TYPES_KEY = 'undefinedAggregateTypes';

/** The noted types. */
export async function readUndefinedTypes(db: StrataDatabase): Promise<string[]> {
  return ((await db.syncState.get(UNDEFINED_TYPES_KEY))?.value as string[] | undefined) ?? [];
}

/** Notes `types` (inside the caller's transaction, if any); writes only when one is new. */
export async function noteUndefinedTypes(
  db: StrataDatabase,
  types: ReadonlySet<string>,
): Promise<void> {
  if (types.size === 0) return;
  const noted = await readUndefinedTypes(db);
  const added = [...types].filter((type) => !noted.includes(type));
  if (added.length > 0) {
    await db.syncState.put({ key: UNDEFINED_TYPES_KEY, value: [...noted, ...added].sort() });
  }
}

/** Writes the noted types as `types` (none: the row goes). */
export async function writeUndefinedTypes(
  db: StrataDatabase,
  types: readonly string[],
): Promise<void> {
  if (types.length === 0) await db.syncState.delete(UNDEFINED_TYPES_KEY);
  else await db.syncState.put({ key: UNDEFINED_TYPES_KEY, value: [...types] });
}
