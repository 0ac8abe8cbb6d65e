/** What the sync client needs of the Web Locks API (`navigator.locks`). */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/**
 * Runs `work` while holding the lock `name`: one tab per origin and database syncs at a time,
 * and when that tab closes (or stops) the browser hands the lock to a waiting tab. Without Web
 * Locks (Node, old browsers) `work` runs at once: the caller is the only syncing instance.
 * `work` must return when `signal` aborts; the lock is released then.
 */
export function whileLeader(
  locks: LockManagerLike | null,
  name: string,
  signal: AbortSignal,
  work: () => Promise<void>,
): Promise<void> {
  if (locks === null) return work();
  return locks.request(name, { signal }, work).then(
    () => undefined,
    (error: unknown) => {
      // Stopping while still waiting for the lock aborts the request: not a failure.
      if (signal.aborted) return;
      throw error;
    },
  );
}

/** `navigator.locks` when the runtime has it. */
export function defaultLocks(): LockManagerLike | null {
  const navigatorLike = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return navigatorLike?.locks ?? null;
}
