import { useEffect, useState } from 'react';

/**
 * The time of this render, with a render again every `intervalMs`: keeps "5 minutes ago" true
 * while it is shown. (The time of each render, not of the last tick: a render for another
 * reason, such as a sync, must not compare a newer timestamp with an older now.)
 */
export function useNow(intervalMs = 15_000): Date {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return new Date();
}
