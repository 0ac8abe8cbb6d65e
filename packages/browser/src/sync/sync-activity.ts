import type { LiveSubscribable } from '../runtime/live-state.ts';

/** What the sync client did: a request, a live stream's events, a connection change, a failure. */
export type SyncActivityKind =
  | 'push'
  | 'pull'
  | 'live'
  | 'connect'
  | 'disconnect'
  | 'error'
  | 'leader'
  | 'follower';

/** One thing the sync client did, as the devtools timeline shows it. */
export interface SyncActivityEntry {
  /** 1 for the first entry this client recorded, counting up: a gap before the oldest kept entry is how many were dropped. */
  readonly seq: number;
  /** When it happened (ISO time, the runtime's clock); for a coalesced `live` entry, the last event. */
  readonly at: string;
  readonly kind: SyncActivityKind;
  /** A short human-readable account, e.g. `3 commits: 3 accepted`. */
  readonly detail: string;
  /** `live` entries: events received in this entry (consecutive ones are added up, see `received`). */
  readonly count?: number;
}

/** A bounded record of what this tab's sync client did, newest last. */
export interface SyncActivity {
  record(kind: SyncActivityKind, detail: string): void;
  /**
   * Counts `count` events received from the live stream: added to the newest entry when it is a
   * `live` one less than `coalesceMs` old, so a busy stream is one entry a second, not one per event.
   */
  received(count: number): void;
  /** The entries kept, oldest first. */
  entries(): readonly SyncActivityEntry[];
  /** The entries kept, live: every change delivers a new array. */
  readonly live: LiveSubscribable<readonly SyncActivityEntry[]>;
}

/** Options of `createSyncActivity`. */
export interface SyncActivityOptions {
  /** Entries kept; older ones are dropped. Defaults to 500. */
  readonly capacity?: number;
  /** Defaults to the system clock. */
  readonly clock?: () => Date;
  /** How long a `live` entry keeps adding up received events. Defaults to 1000 ms. */
  readonly coalesceMs?: number;
}

/**
 * An in-memory ring buffer of sync activity (issue 17's devtools timeline). In memory and per
 * tab on purpose: it costs no IndexedDB write per request, and only the tab that syncs (the Web
 * Lock holder) has activity to record; the others' timelines stay empty.
 *
 * @example
 * const activity = createSyncActivity({ capacity: 100 });
 * activity.record('push', '2 commits: 2 accepted');
 * activity.live.subscribe((entries) => render(entries));
 */
export function createSyncActivity(options: SyncActivityOptions = {}): SyncActivity {
  const capacity = Math.max(1, Math.floor(options.capacity ?? 500));
  const clock = options.clock ?? (() => new Date());
  const coalesceMs = options.coalesceMs ?? 1000;
  // A fixed array written round: `next` is where the next entry goes once it is full.
  const ring: SyncActivityEntry[] = [];
  let next = 0;
  let seq = 0;
  let snapshot: readonly SyncActivityEntry[] | undefined;
  const listeners = new Set<(entries: readonly SyncActivityEntry[]) => void>();

  const entries = (): readonly SyncActivityEntry[] => {
    snapshot ??= ring.length < capacity ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)];
    return snapshot;
  };
  const changed = () => {
    snapshot = undefined;
    if (listeners.size === 0) return;
    const current = entries();
    for (const listener of listeners) listener(current);
  };
  const append = (entry: SyncActivityEntry) => {
    if (ring.length < capacity) {
      ring.push(entry);
    } else {
      ring[next] = entry;
      next = (next + 1) % capacity;
    }
  };
  const newest = (): { entry: SyncActivityEntry; index: number } | undefined => {
    if (ring.length === 0) return undefined;
    const index = ring.length < capacity ? ring.length - 1 : (next - 1 + capacity) % capacity;
    return { entry: ring[index] as SyncActivityEntry, index };
  };

  return {
    record(kind, detail) {
      append({ seq: ++seq, at: clock().toISOString(), kind, detail });
      changed();
    },
    received(count) {
      if (count <= 0) return;
      const now = clock();
      const last = newest();
      if (
        last !== undefined &&
        last.entry.kind === 'live' &&
        now.getTime() - Date.parse(last.entry.at) < coalesceMs
      ) {
        const total = (last.entry.count ?? 0) + count;
        ring[last.index] = {
          ...last.entry,
          at: now.toISOString(),
          count: total,
          detail: events(total),
        };
      } else {
        append({ seq: ++seq, at: now.toISOString(), kind: 'live', detail: events(count), count });
      }
      changed();
    },
    entries,
    live: {
      subscribe(observer) {
        const deliver = typeof observer === 'function' ? observer : observer.next;
        const listener = (current: readonly SyncActivityEntry[]) => deliver?.(current);
        listeners.add(listener);
        // Like Dexie's live queries: the current value first.
        listener(entries());
        return { unsubscribe: () => void listeners.delete(listener) };
      },
    },
  };
}

const events = (count: number) => `${count} event${count === 1 ? '' : 's'} received live`;
