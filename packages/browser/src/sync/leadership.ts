import { type LockManagerLike, whileLeader } from './leader-lock.ts';
import type { TabStatusCell } from './tab-status.ts';

export interface LeadershipOptions {
  /** The Web Locks API, or null to lead at once (the only syncing instance). */
  readonly locks: LockManagerLike | null;
  /** The lock's name: one leader per name (per database). */
  readonly name: string;
  /** Stops leading, or waiting to lead; `session` must return when it aborts. */
  readonly signal: AbortSignal;
  /** Told when this tab leads and when it stops. */
  readonly tab: Pick<TabStatusCell, 'set'>;
  /** What the leader runs: the sync loops. */
  readonly session: () => Promise<void>;
  /** Called with a failure of the lock or of the session (the returned promise then resolves). */
  readonly onError: (error: unknown) => unknown;
}

/**
 * Runs the sync session in one tab per database: waits for the lock, marks the tab as leader,
 * runs `session` until it returns (on `signal`), then releases the lock for a waiting tab.
 *
 * @example
 * const running = lead({ locks: navigator.locks, name: 'strata-sync:todos', signal, tab, session, onError });
 */
export async function lead(options: LeadershipOptions): Promise<void> {
  const { tab, session } = options;
  await whileLeader(options.locks, options.name, options.signal, async () => {
    tab.set({ leader: true });
    try {
      await session();
    } finally {
      tab.set({ leader: false });
    }
  }).catch(async (error: unknown) => {
    await options.onError(error);
  });
}
