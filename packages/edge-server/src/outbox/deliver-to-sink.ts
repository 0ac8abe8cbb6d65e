import type { OutboxMessage, OutboxSink } from './outbox-sink.ts';

/** A failed delivery: why, and whether the sink may still be running (it timed out). */
export interface DeliveryFailure {
  /** `Name: message`, at most `MAX_ERROR_LENGTH` characters: the message's `last_error`. */
  readonly error: string;
  readonly timedOut: boolean;
}

/** Longest `last_error` kept: a sink's error may carry a whole response body. */
export const MAX_ERROR_LENGTH = 2_000;

/**
 * Hands one message to its sink; resolves null once the sink acknowledged it, else the failure
 * (told to `report` first). A sink that ignores the signal is not waited for: its outcome would
 * come after the lease, when another relay may own the message.
 */
export async function deliverToSink(
  sink: OutboxSink | undefined,
  message: OutboxMessage,
  signal: AbortSignal,
  report: (error: unknown, message: OutboxMessage) => void,
): Promise<DeliveryFailure | null> {
  try {
    if (sink === undefined) throw new Error(`No sink for destination ${message.destination}`);
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      Promise.resolve()
        .then(() => sink(message, { signal }))
        .then(resolve, reject);
    });
    return null;
  } catch (error) {
    report(error, message);
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { error: text.slice(0, MAX_ERROR_LENGTH), timedOut: error === signal.reason };
  }
}
