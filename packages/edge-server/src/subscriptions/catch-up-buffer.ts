/**
 * Live events that arrive while a subscription is still catching up from the log wait here, up to
 * a size (issue 12, item 4): a reader slower than the live traffic would otherwise hold every
 * event committed during its catch-up. Past the cap the buffer forgets them: they are in the log,
 * so the catch-up reads on from its position instead (see `streamSubscription`).
 */

/** A bounded buffer that turns into "read the log again" when it overflows. */
export interface CatchUpBuffer<T> {
  /** Keeps `item` unless the buffer has overflowed since the last `take`. */
  push(item: T): void;
  /**
   * What was kept since the last `take`, in order, and an empty buffer from now on; undefined if
   * it overflowed in between (the log must be read again from where the reader is).
   */
  take(): T[] | undefined;
}

/**
 * @example
 * const buffer = createCatchUpBuffer(1024 * 1024, (event) => JSON.stringify(event).length);
 * feed.subscribe(tenant, (event) => buffer.push(event));
 */
export function createCatchUpBuffer<T>(
  maxBytes: number,
  sizeOf: (item: T) => number,
): CatchUpBuffer<T> {
  let items: T[] = [];
  let bytes = 0;
  let overflowed = false;
  return {
    push(item) {
      if (overflowed) return;
      bytes += sizeOf(item);
      if (bytes > maxBytes) {
        overflowed = true;
        items = [];
        return;
      }
      items.push(item);
    },
    take() {
      const taken = overflowed ? undefined : items;
      items = [];
      bytes = 0;
      overflowed = false;
      return taken;
    },
  };
}
