/**
 * Wakes a sleeping loop early: background loops sleep between rounds (backoff, poll interval)
 * and are woken by new work (a local command, a notification, the browser coming online) or by
 * stop. Used by the browser's sync client and the server's relays, runners and consumers.
 */
export interface WakeSignal {
  /** Resolves after `ms`, or earlier when `wake` is called. */
  sleep(ms: number): Promise<void>;
  /** Ends the current sleep, or the next one at once if no loop is sleeping. */
  wake(): void;
}

/**
 * @example
 * const signal = createWakeSignal();
 * while (!stopped) { await work(); await signal.sleep(1000); } // `signal.wake()` cuts the wait short
 */
export function createWakeSignal(): WakeSignal {
  let pending = false;
  let current: (() => void) | undefined;
  return {
    sleep(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          current = undefined;
          resolve();
        }
        current = done;
      });
    },
    wake() {
      if (current === undefined) pending = true;
      else current();
    },
  };
}
