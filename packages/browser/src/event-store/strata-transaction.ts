import type { Table, Transaction } from 'dexie';

/**
 * What inline projections and sync reactors get inside the append's Dexie transaction: the app's
 * tables, bound to that transaction, so their writes commit with the events or not at all.
 * Await only Dexie operations inside it: awaiting anything else (fetch, timers) lets IndexedDB
 * commit the transaction early.
 */
export interface StrataTransaction {
  /** A table of the database; writes join the append's transaction. */
  table<TRow = unknown, TKey = unknown>(name: string): Table<TRow, TKey>;
  /** The underlying Dexie transaction, for what `table` does not cover. */
  readonly dexie: Transaction;
}
