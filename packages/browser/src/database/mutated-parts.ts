import type { IntervalTree, ObservabilitySet, RangeSet } from 'dexie';
import { rangesOverlap } from 'dexie';

/**
 * Whether a committed transaction, as Dexie's `storagemutated` reports it (this tab's or
 * another's), may have written or deleted rows of `table` whose primary keys are in `keys`. A
 * change Dexie reports for the whole database (`all`) may have.
 *
 * @example
 * Dexie.on.storagemutated.subscribe((parts) => mutatesRows(parts, db.name, 'events', tipRow));
 */
export function mutatesRows(
  parts: ObservabilitySet,
  database: string,
  table: string,
  keys: RangeSet,
): boolean {
  return (
    'all' in parts ||
    [`idb://${database}/${table}/`, `idb://${database}/${table}/:dels`].some((name) =>
      overlaps(parts[name], keys),
    )
  );
}

/** `mutatesRows` for the entries of one of the table's indexes (`[a+b+c]`, by its name). */
export function mutatesIndex(
  parts: ObservabilitySet,
  database: string,
  table: string,
  index: string,
  keys: RangeSet,
): boolean {
  return 'all' in parts || overlaps(parts[`idb://${database}/${table}/${index}`], keys);
}

const overlaps = (mutated: IntervalTree | undefined, keys: RangeSet) =>
  mutated !== undefined && rangesOverlap(mutated, keys);
