/**
 * Live events handed to a subscription and not yet written to its stream, counted in bytes
 * (issue 12, item 4). While a subscription waits for its reader (a catch-up step blocked on a
 * full buffer), the feed keeps delivering; without a cap, a reader that stopped would pin every
 * event committed since. Past the cap the subscription is ended instead (the client resumes from
 * its last event id; the events are in the log).
 */
import type { StoredEvent } from '@strata/core';

/** Bytes of live events waiting for one subscription. */
export interface LiveBacklog<T> {
  /** Counts `item` in; false (and not counted) when it would pass the cap. */
  admit(item: T): boolean;
  /** Counts `item` out once it was written or skipped; unknown items are ignored. */
  release(item: T): void;
  readonly bytes: number;
}

/**
 * @example
 * const backlog = createLiveBacklog(1024 * 1024, approximateEventBytes);
 * if (!backlog.admit(event)) writer.overflow();
 */
export function createLiveBacklog<T>(
  maxBytes: number,
  sizeOf: (item: T) => number,
): LiveBacklog<T> {
  const held = new Map<T, number>();
  let bytes = 0;
  return {
    admit(item) {
      const size = sizeOf(item);
      if (bytes + size > maxBytes) return false;
      held.set(item, (held.get(item) ?? 0) + size);
      bytes += size;
      return true;
    },
    release(item) {
      const size = held.get(item);
      if (size === undefined) return;
      held.delete(item);
      bytes -= size;
    },
    get bytes() {
      return bytes;
    },
  };
}

// The feed hands the same event object to every subscriber of its tenant: size it once.
const sizes = new WeakMap<object, number>();

/**
 * About how many bytes an event takes on the wire (its JSON), remembered per event object.
 *
 * @example
 * approximateEventBytes(event); // e.g. 412
 */
export function approximateEventBytes(event: StoredEvent): number {
  let size = sizes.get(event);
  if (size === undefined) {
    size = JSON.stringify(event).length;
    sizes.set(event, size);
  }
  return size;
}
