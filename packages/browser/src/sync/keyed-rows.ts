import {
  cmp,
  type DBCoreIndex,
  type DBCoreKeyRange,
  type DBCoreTable,
  type DBCoreTransaction,
  Dexie,
  type Table,
} from 'dexie';

/** An index key strata's tables use: a string, a number, or a compound of them. */
export type RowKey = string | number | readonly (string | number)[];

const EQUAL = 1 as DBCoreKeyRange['type'];
const RANGE = 2 as DBCoreKeyRange['type'];

/**
 * How many rows a range read may bring per key asked before it is not worth it: a batch's keys
 * usually lie close together (a push's commands and events were written one after the other, in
 * id order), and one read of their range is one request. Farther apart, one request per key.
 */
const RANGE_ROWS_PER_KEY = 4;
const RANGE_SLACK = 64;

/**
 * The rows of `table` whose `index` holds one of `keys`, each row once, in no particular order:
 * in O(1) requests, not O(keys) (issue 16). Inside a transaction it first reads the keys' whole
 * range with a limit (one request: the usual case, keys close together); when the range holds
 * more rows than the limit, one request per key, all sent at once through Dexie's core (which
 * still tracks the reads for live queries). Dexie's `anyOf` walks a cursor, and in Chromium each
 * cursor step waits for the one before: a push's acknowledgement paid one wait per event.
 * Outside a transaction it falls back to `anyOf`.
 *
 * @example
 * const events = await rowsWhere(db.events, 'id', ['2a…', '2b…']);
 */
export async function rowsWhere<T>(
  table: Table<T>,
  index: string,
  keys: readonly RowKey[],
): Promise<T[]> {
  if (keys.length === 0) return [];
  const trans = transactionOf(table);
  if (trans === undefined) {
    return table
      .where(index)
      .anyOf(keys as never[])
      .toArray();
  }
  const core = table.core;
  const found = core.schema.indexes.find((candidate) => candidate.name === index);
  if (found === undefined) throw new TypeError(`${table.name} has no index ${index}`);
  const sorted = [...keys].sort(cmp);
  const wanted = new KeySet();
  for (const key of sorted) wanted.add(key);
  const limit = wanted.size * RANGE_ROWS_PER_KEY + RANGE_SLACK;
  const { result } = await core.query({
    trans,
    values: true,
    limit,
    query: {
      index: found,
      range: {
        type: RANGE,
        lower: sorted[0],
        upper: sorted.at(-1),
        lowerOpen: false,
        upperOpen: false,
      },
    },
  });
  if (result.length < limit) {
    // The whole range: keep the rows of the keys asked (a multi-entry row appears once per entry).
    return unique(
      core,
      (result as T[]).filter((row) => holdsOneOf(found, row, wanted)),
    );
  }
  const answers = await Promise.all(
    dedupedKeys(sorted).map((key) =>
      core.query({
        trans,
        values: true,
        query: { index: found, range: { type: EQUAL, lower: key, upper: key } },
      }),
    ),
  );
  return unique(
    core,
    answers.flatMap(({ result: rows }) => rows as T[]),
  );
}

/**
 * Deletes the rows of `table` with these primary keys (numbers, e.g. `seq`), inside the current
 * transaction: one request per run of consecutive keys (a push's commands usually are one run),
 * not one per key as `bulkDelete` makes. Outside a transaction, `bulkDelete`.
 */
export async function deleteRows<T>(
  table: Table<T, number>,
  keys: readonly number[],
): Promise<void> {
  if (keys.length === 0) return;
  const trans = transactionOf(table);
  if (trans === undefined) {
    await table.bulkDelete([...keys]);
    return;
  }
  const sorted = [...new Set(keys)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const key of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === key - 1) last[1] = key;
    else runs.push([key, key]);
  }
  const outcomes = await Promise.all(
    runs.map(([lower, upper]) =>
      table.core.mutate({
        trans,
        type: 'deleteRange',
        range: { type: RANGE, lower, upper, lowerOpen: false, upperOpen: false },
      }),
    ),
  );
  const failed = outcomes.find((outcome) => outcome.numFailures > 0);
  if (failed !== undefined) throw Object.values(failed.failures)[0];
}

/** The current Dexie transaction's core transaction, when it covers `table`. */
function transactionOf(table: Pick<Table, 'db' | 'name'>): DBCoreTransaction | undefined {
  const current = Dexie.currentTransaction;
  if (
    current === null ||
    current === undefined ||
    current.db !== table.db ||
    !current.storeNames.includes(table.name)
  ) {
    return undefined;
  }
  return current.idbtrans as unknown as DBCoreTransaction;
}

/**
 * Keys as `Set` members, cheap for the usual ones (this runs once per row a range read brings):
 * strings and numbers as they are (a `Set` tells `1` from `'1'`), compounds as their JSON text,
 * in a set of their own so that no string key can equal one.
 */
class KeySet {
  readonly #plain = new Set<unknown>();
  readonly #compound = new Set<string>();
  get size(): number {
    return this.#plain.size + this.#compound.size;
  }
  add(key: unknown): void {
    if (typeof key === 'string' || typeof key === 'number') this.#plain.add(key);
    else this.#compound.add(JSON.stringify(key));
  }
  has(key: unknown): boolean {
    return typeof key === 'string' || typeof key === 'number'
      ? this.#plain.has(key)
      : this.#compound.has(JSON.stringify(key));
  }
}

function dedupedKeys(sorted: readonly RowKey[]): RowKey[] {
  return sorted.filter((key, i) => i === 0 || cmp(sorted[i - 1], key) !== 0);
}

function holdsOneOf(index: DBCoreIndex, row: unknown, wanted: KeySet): boolean {
  const key = index.extractKey?.(row);
  if (index.multiEntry === true && Array.isArray(key)) {
    return key.some((entry) => wanted.has(entry));
  }
  return wanted.has(key);
}

/** Each row once, by primary key. */
function unique<T>(core: DBCoreTable, rows: T[]): T[] {
  const { extractKey } = core.schema.primaryKey;
  if (extractKey === null || extractKey === undefined) return rows;
  const seen = new Set<unknown>();
  return rows.filter((row) => {
    const key = extractKey(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
