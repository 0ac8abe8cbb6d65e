import { describeError } from '../logging/describe-error.ts';

/** The part of a runtime the signal handling needs: Bun's `process`, or `Deno`. */
export interface SignalRuntime {
  onSignal(signal: 'SIGINT' | 'SIGTERM', listener: () => void): void;
  exit(code: number): never;
}

/**
 * SIGINT/SIGTERM stop the server gracefully (`close`: subscriptions end, in-flight requests
 * finish) and exit 0, or 1 when closing fails; a second signal while closing exits 1 at once, for
 * an operator who will not wait. Shared by the Bun and Deno entries (Node's server has its own,
 * removable listeners).
 */
export function stopOnSignals(close: () => Promise<void>, runtime: SignalRuntime): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    runtime.onSignal(signal, () => {
      if (stopping) runtime.exit(1);
      stopping = true;
      console.log(`[strata] ${signal}: shutting down`);
      close().then(
        () => {
          console.log('[strata] sync server stopped');
          runtime.exit(0);
        },
        (error: unknown) => {
          console.error(`[strata] shutdown failed: ${describeError(error)}`);
          runtime.exit(1);
        },
      );
    });
  }
}
