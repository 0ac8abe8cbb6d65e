/**
 * What the benches ran on, beyond the machine itself: each part of the bench machinery that
 * starts something a figure depends on (a Postgres cluster and its durability settings, a
 * Chromium) notes it here, and `pnpm bench --markdown` prints the notes with the machine.
 * Node only (bench files in Chromium report their environment through the runner).
 */
const notes = new Map<string, Set<string>>();

/** Notes `value` under `key` (e.g. `Postgres`); the same value twice is kept once. */
export function noteEnvironment(key: string, value: string): void {
  let values = notes.get(key);
  if (values === undefined) {
    values = new Set();
    notes.set(key, values);
  }
  values.add(value);
}

/** Every note so far, in the order first noted. */
export function environmentNotes(): ReadonlyMap<string, readonly string[]> {
  return new Map([...notes].map(([key, values]) => [key, [...values]]));
}

/** The settings a reader of a figure needs: version and what a commit waits for. */
export interface PostgresSettings {
  readonly server_version: string;
  readonly fsync: string;
  readonly synchronous_commit: string;
  readonly full_page_writes: string;
  readonly wal_sync_method: string;
}

/** The settings in one line, e.g. `Postgres 15.14, fsync on, synchronous_commit on, ...`. */
export function describeSettings(settings: PostgresSettings): string {
  return `Postgres ${settings.server_version}, fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, full_page_writes ${settings.full_page_writes}, wal_sync_method ${settings.wal_sync_method}`;
}
