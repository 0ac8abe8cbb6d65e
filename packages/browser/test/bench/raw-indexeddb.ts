/**
 * Raw IndexedDB, no Dexie: the baselines of the browser benchmarks. `openRawEventsDatabase`
 * creates an `events` object store with the same key and indexes as strata's events table
 * (`++position, &id, &[aggregateType+aggregateId+version]`).
 */

/** A request's result, as a promise. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Resolves when the transaction commits; rejects when it aborts. */
export function committed(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(transaction.error ?? new Error('transaction aborted'));
    transaction.onerror = () => reject(transaction.error);
  });
}

/** Opens a database at its current version (one strata already made, for reading). */
export function openExisting(name: string): Promise<IDBDatabase> {
  return request(indexedDB.open(name));
}

/** A fresh database with an `events` store shaped like strata's. */
export function openRawEventsDatabase(name: string): Promise<IDBDatabase> {
  const opening = indexedDB.open(name, 1);
  opening.onupgradeneeded = () => {
    const events = opening.result.createObjectStore('events', {
      keyPath: 'position',
      autoIncrement: true,
    });
    events.createIndex('id', 'id', { unique: true });
    events.createIndex(
      '[aggregateType+aggregateId+version]',
      ['aggregateType', 'aggregateId', 'version'],
      { unique: true },
    );
  };
  return request(opening);
}

/** Deletes a database; its connections must be closed first. */
export async function deleteDatabase(name: string): Promise<void> {
  await request(indexedDB.deleteDatabase(name));
}

/** Puts every object into the store in one read-write transaction and waits for the commit. */
export async function putAll(db: IDBDatabase, storeName: string, rows: readonly object[]) {
  const transaction = db.transaction(storeName, 'readwrite');
  const store = transaction.objectStore(storeName);
  for (const row of rows) store.put(row);
  await committed(transaction);
}
