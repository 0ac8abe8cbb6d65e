/**
 * A clock whose times only go up: each call answers the underlying clock's time, or one
 * millisecond after the time it answered last when that is not later. The server decides a
 * push's commands within the same millisecond (decide-batch.ts), and apps order by event time
 * (a list sorted by `occurredAt`): the decisions of one instance keep their order by time.
 *
 * @example
 * const now = increasingClock(() => new Date());
 * now() < now(); // true
 */
export function increasingClock(clock: () => Date): () => Date {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const time = clock().getTime();
    last = time > last ? time : last + 1;
    return new Date(last);
  };
}
