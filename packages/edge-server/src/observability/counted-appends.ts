import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';

/**
 * `store`, with the events each append newly stored handed to `counted` once the append has
 * committed: a retried append (`alreadyStored`) and a refused commit count nothing, a rolled-back
 * transaction never reaches here. Counting at the store rather than in an append hook matters:
 * hooks run inside the transaction, which may still roll back or be run again (a shared push
 * transaction goes again push by push after a refusal inside it).
 *
 * @example
 * const store = countedAppends(createPostgresEventStore(db, { tenant }), (n) => appended.inc({}, n));
 */
export function countedAppends(
  store: PostgresEventStore,
  counted: (events: number) => void,
): PostgresEventStore {
  return {
    ...store,
    async append(stream, events, options) {
      const result = await store.append(stream, events, options);
      if (!result.alreadyStored) counted(result.events.length);
      return result;
    },
    async appendCommits(commits, options) {
      const outcomes = await store.appendCommits(commits, options);
      let stored = 0;
      for (const outcome of outcomes) {
        if (outcome.kind === 'appended' && !outcome.alreadyStored) stored += outcome.events.length;
      }
      counted(stored);
      return outcomes;
    },
  };
}
