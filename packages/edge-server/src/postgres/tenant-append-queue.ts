import { appendCommitGroups, type CommitAppend, type CommitOutcome } from './append-commits.ts';
import type { AppendSettings } from './append-to-stream.ts';
import type { SqlDatabase } from './sql-database.ts';

/** At most this many events share one transaction (one statement's arrays stay modest). */
export const MAX_EVENTS_PER_BATCH = 5_000;

interface Waiting {
  readonly settings: AppendSettings;
  readonly commits: readonly CommitAppend[];
  readonly resolve: (outcomes: CommitOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

interface TenantQueue {
  readonly waiting: Waiting[];
  running: boolean;
}

const queues = new WeakMap<SqlDatabase, Map<string, TenantQueue>>();

/**
 * `appendCommits` with group commit per tenant, in this instance: a push whose tenant has no
 * transaction running is stored at once; pushes that arrive meanwhile wait for it and then share
 * the next transaction (`appendCommitGroups`), so they share one WAL flush instead of queueing on
 * the tenant's position counter one commit after the other (its row is locked from INSERT to
 * COMMIT). A push never waits for more than the transaction before it. Pushes that carry an
 * event id of one already in the batch (a retry racing its original) wait for the next one, so
 * the retry is told from what the original stored. Each push gets its own outcomes, or the
 * batch's error (a lost database) when the transaction failed.
 *
 * Code inside an append (hooks) must not append for the same tenant: it would wait for itself.
 *
 * @example
 * const outcomes = await appendCommitsQueued(db, settings, commits);
 */
export function appendCommitsQueued(
  db: SqlDatabase,
  settings: AppendSettings,
  commits: readonly CommitAppend[],
): Promise<CommitOutcome[]> {
  if (commits.length === 0) return Promise.resolve([]);
  let byTenant = queues.get(db);
  if (byTenant === undefined) {
    byTenant = new Map();
    queues.set(db, byTenant);
  }
  let queue = byTenant.get(settings.tenant);
  if (queue === undefined) {
    queue = { waiting: [], running: false };
    byTenant.set(settings.tenant, queue);
  }
  const promise = new Promise<CommitOutcome[]>((resolve, reject) => {
    queue.waiting.push({ settings, commits, resolve, reject });
  });
  if (!queue.running) void drain(db, settings.tenant, byTenant, queue);
  return promise;
}

async function drain(
  db: SqlDatabase,
  tenant: string,
  byTenant: Map<string, TenantQueue>,
  queue: TenantQueue,
): Promise<void> {
  queue.running = true;
  try {
    while (queue.waiting.length > 0) {
      const batch = takeBatch(queue.waiting);
      try {
        const outcomes = await appendCommitGroups(db, batch);
        for (const [index, waiting] of batch.entries()) waiting.resolve(outcomes[index] ?? []);
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
  } finally {
    queue.running = false;
    byTenant.delete(tenant);
  }
}

/**
 * Takes the pushes of the next transaction out of `waiting`, in arrival order: the first always,
 * then each that shares no event id with those taken, up to `MAX_EVENTS_PER_BATCH` events.
 */
export function takeBatch<T extends { readonly commits: readonly CommitAppend[] }>(
  waiting: T[],
): T[] {
  const taken: T[] = [];
  const ids = new Set<string>();
  let events = 0;
  for (let index = 0; index < waiting.length; ) {
    const candidate = waiting[index] as T;
    const own = candidate.commits.flatMap((commit) => commit.events.map((event) => event.id));
    const fits =
      taken.length === 0 ||
      (events + own.length <= MAX_EVENTS_PER_BATCH && own.every((id) => !ids.has(id)));
    if (!fits) {
      index++;
      continue;
    }
    taken.push(candidate);
    waiting.splice(index, 1);
    for (const id of own) ids.add(id);
    events += own.length;
  }
  return taken;
}
