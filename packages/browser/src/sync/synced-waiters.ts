/** The callers of `whenSynced`, resolved together once the client is synced. */
export interface SyncedWaiters {
  /** Resolves at the first `check` that finds the client synced. */
  wait(): Promise<void>;
  /** Resolves every waiter if `isSynced()` says so; does nothing (no read) when nobody waits. */
  check(): void;
}

/**
 * @example
 * const synced = createSyncedWaiters(async () => (await db.commands.count()) === 0 && caughtUp);
 * await synced.wait(); // resolved by a later `synced.check()`
 */
export function createSyncedWaiters(isSynced: () => Promise<boolean>): SyncedWaiters {
  let waiters: (() => void)[] = [];
  const check = () => {
    if (waiters.length === 0) return;
    void isSynced().then((synced) => {
      if (!synced) return;
      const resolved = waiters;
      waiters = [];
      for (const resolve of resolved) resolve();
    });
  };
  return {
    wait: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        check();
      }),
    check,
  };
}
