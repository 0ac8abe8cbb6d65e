import { type DBCoreKeyRange, type DBCoreTransaction, Dexie, type Table } from 'dexie';

const EQUAL = 1 as DBCoreKeyRange['type'];

/**
 * The rows of `table` whose `index` holds one of `keys`, each row once, in the order of the keys
 * that found them. Inside a transaction, one request per key goes out at once through Dexie's
 * core (which still tracks the reads for live queries); Dexie's `anyOf` walks a cursor instead,
 * and in Chromium each cursor step waits for the one before, so a push's acknowledgement cost
 * one wait per event (issue 16). Outside a transaction it falls back to `anyOf`.
 *
 * @example
 * const events = await rowsWhere(db.events, 'id', ['2a…', '2b…']);
 */
export async function rowsWhere<T>(
  table: Table<T>,
  index: string,
  keys: readonly (string | number | readonly (string | number)[])[],
): Promise<T[]> {
  if (keys.length === 0) return [];
  const current = Dexie.currentTransaction;
  if (
    current === null ||
    current === undefined ||
    current.db !== table.db ||
    !current.storeNames.includes(table.name)
  ) {
    return table
      .where(index)
      .anyOf(keys as never[])
      .toArray();
  }
  const trans = current.idbtrans as unknown as DBCoreTransaction;
  const core = table.core;
  const found = core.schema.indexes.find((candidate) => candidate.name === index);
  if (found === undefined) throw new TypeError(`${table.name} has no index ${index}`);
  const answers = await Promise.all(
    keys.map((key) =>
      core.query({
        trans,
        values: true,
        query: { index: found, range: { type: EQUAL, lower: key, upper: key } },
      }),
    ),
  );
  const { extractKey } = core.schema.primaryKey;
  const seen = new Set<unknown>();
  const rows: T[] = [];
  for (const { result } of answers) {
    for (const row of result as T[]) {
      if (extractKey !== null && extractKey !== undefined) {
        const key = extractKey(row);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      rows.push(row);
    }
  }
  return rows;
}
