import { createWakeSignal, isStrataError } from '@strata/core';
import type { SharedConnection } from './shared-connection.ts';
import type { ReadyAnswer } from './sync-transport.ts';

/** How often the probe asks while the sync loops are failing. */
export const PROBE_INTERVAL_MS = 1000;

export interface ReachabilityProbeOptions {
  /** One cheap request (`GET /readyz`, see `SyncTransport.ready`). */
  readonly probe: (signal: AbortSignal) => Promise<ReadyAnswer>;
  /** The server is back: end the loops' backoff waits. */
  readonly onBack: () => void;
  /** Defaults to `PROBE_INTERVAL_MS`; each wait is jittered by ±25%. */
  readonly intervalMs?: number;
  readonly random: () => number;
  /** Whether the browser reports a network; no probe goes out while it does not. */
  readonly online: () => boolean;
  readonly signal: AbortSignal;
}

/** The probe's side of the loops' failures and successes. */
export interface ReachabilityProbe {
  /** A sync request failed: probe until the server answers (or a request succeeds). */
  failed(error: unknown): void;
  /** A sync request succeeded: stop probing. */
  succeeded(): void;
}

/**
 * Finds out when a failing server returns (issue 17) without hammering it. The loops' backoff
 * grows to 30 s while a server is down, so a restart went unnoticed for up to that long. While
 * they fail, this asks the server's readiness route about once a second: one small GET that
 * costs the server a single catalog read and no tenant work, and answers 503 while its
 * database is down. When the server answers, both loops are woken and retry at once.
 *
 * A probe that answers from the start tells nothing about a request that failed while the
 * server was reachable (a 500 from one route): then the loops keep their backoff, unless the
 * failure itself said the server was out of reach (a network error, 502/503/504). A wake that
 * was followed by another failure before any success spends that trust: from then on only a
 * probe that fails and then answers wakes the loops, so a server whose readiness route works
 * while sync does not gets the backoff, not a request a second. The server's `Retry-After` is
 * honoured before the next probe.
 *
 * @example
 * const probe = createReachabilityProbe({ probe: transport.ready, onBack: wakeBoth, ... });
 * const connection = probedConnection(shared, probe);
 */
export function createReachabilityProbe(options: ReachabilityProbeOptions): ReachabilityProbe {
  const intervalMs = options.intervalMs ?? PROBE_INTERVAL_MS;
  let episode: AbortController | undefined;
  // A wake not yet followed by a success: the next failure must see the server go and return.
  let wokeSinceSuccess = false;

  const run = async (
    stop: AbortController,
    outOfReach: boolean,
    firstWaitMs: number,
  ): Promise<void> => {
    const wait = createWakeSignal();
    const ended = () => wait.wake();
    stop.signal.addEventListener('abort', ended);
    options.signal.addEventListener('abort', ended);
    let sawDown = false;
    let nextWaitMs = firstWaitMs;
    try {
      while (!stop.signal.aborted && !options.signal.aborted) {
        await wait.sleep(jittered(nextWaitMs, options.random));
        if (stop.signal.aborted || options.signal.aborted) return;
        nextWaitMs = intervalMs;
        // Offline, the `online` event wakes the loops; a request now would only fail.
        if (!options.online()) continue;
        const answer: ReadyAnswer = await options.probe(stop.signal).catch(() => ({ up: false }));
        if (stop.signal.aborted) return;
        if (!answer.up) {
          sawDown = true;
          const asked = answer.retryAfterSeconds;
          if (asked !== undefined && asked > 0) nextWaitMs = Math.max(intervalMs, asked * 1000);
          continue;
        }
        if (outOfReach || sawDown) {
          wokeSinceSuccess = true;
          options.onBack();
        }
        return;
      }
    } finally {
      stop.signal.removeEventListener('abort', ended);
      options.signal.removeEventListener('abort', ended);
      if (episode === stop) episode = undefined;
    }
  };

  return {
    failed(error) {
      if (episode !== undefined || options.signal.aborted) return;
      const stop = new AbortController();
      episode = stop;
      const outOfReach = !wokeSinceSuccess && meansOutOfReach(error);
      void run(stop, outOfReach, Math.max(intervalMs, retryAfterMs(error)));
    },
    succeeded() {
      wokeSinceSuccess = false;
      episode?.abort();
      episode = undefined;
    },
  };
}

/**
 * The loops' shared connection, with the probe told of what they report there: every failure
 * goes through `fail`, and every success clears `lastError`.
 */
export function probedConnection(
  connection: SharedConnection,
  probe: ReachabilityProbe,
): SharedConnection {
  return {
    ...connection,
    share: (state) => {
      if ('lastError' in state && state.lastError === undefined) probe.succeeded();
      return connection.share(state);
    },
    fail: (error) => {
      probe.failed(error);
      return connection.fail(error);
    },
  };
}

/** A network failure or a gateway's "not now": the server itself was not there. */
function meansOutOfReach(error: unknown): boolean {
  return isStrataError(error, 'UNAVAILABLE');
}

function retryAfterMs(error: unknown): number {
  if (!isStrataError(error, 'UNAVAILABLE') && !isStrataError(error, 'RATE_LIMITED')) return 0;
  const seconds = error.retryAfterSeconds;
  return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

function jittered(ms: number, random: () => number): number {
  return Math.round(ms * (0.75 + random() * 0.5));
}
