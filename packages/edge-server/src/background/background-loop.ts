import { createWakeSignal } from '@strata/core';

/** A loop that runs rounds in the background until stopped. */
export interface BackgroundLoop {
  /** Starts the loop; a second call while it runs does nothing. */
  start(): void;
  /** Ends the sleep between rounds early (new work arrived). */
  wake(): void;
  /** Stops after the round in progress and waits for it; idempotent. */
  stop(): Promise<void>;
}

/**
 * The loop behind relays, consumers and projection runners: run a round; if it says more work
 * is waiting, run the next at once, else sleep `idleMs` (or until `wake`). A round that throws
 * is reported to `onError` and counts as idle, so a failing database is retried, not spun on.
 *
 * @example
 * const loop = createBackgroundLoop({ round: async () => (await relay.runOnce()).claimed > 0, idleMs: 1000, onError });
 * loop.start();
 */
export function createBackgroundLoop(options: {
  /** One round; resolves true when more work is waiting right away. */
  readonly round: () => Promise<boolean>;
  readonly idleMs: number;
  readonly onError: (error: unknown) => void;
}): BackgroundLoop {
  const idle = createWakeSignal();
  let running: Promise<void> | undefined;
  let stopping = false;

  async function run(): Promise<void> {
    while (!stopping) {
      const again = await options.round().catch((error: unknown) => {
        options.onError(error);
        return false;
      });
      if (!again && !stopping) await idle.sleep(options.idleMs);
    }
  }

  return {
    start() {
      if (running !== undefined) return;
      stopping = false;
      running = run();
    },
    wake: () => idle.wake(),
    async stop() {
      stopping = true;
      idle.wake();
      await running;
      running = undefined;
    },
  };
}
