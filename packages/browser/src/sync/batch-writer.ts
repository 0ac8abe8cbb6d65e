/**
 * Stores streamed entries in batches: entries queue while a batch is written, so a burst costs
 * one transaction per batch, not one per entry. A failed batch stops the writer and calls
 * `onFailure` (which closes the stream).
 *
 * @example
 * const writer = createBatchWriter((batch) => apply(batch), 1000, () => stream.abort());
 * writer.add(entry); ...; await writer.idle(); writer.throwIfFailed();
 */
export function createBatchWriter<T>(
  write: (batch: T[]) => Promise<void>,
  batchLimit: number,
  onFailure: () => void,
) {
  const queue: T[] = [];
  let writing: Promise<void> | undefined;
  let failure: unknown;
  const drain = async () => {
    try {
      while (queue.length > 0) await write(queue.splice(0, batchLimit));
    } catch (error) {
      failure = error;
      onFailure();
    } finally {
      writing = undefined;
    }
  };
  return {
    add(entry: T) {
      if (failure !== undefined) return;
      queue.push(entry);
      writing ??= drain();
    },
    /** Resolves once the batch being written (if any) is done. */
    idle: () => writing,
    throwIfFailed() {
      if (failure !== undefined) throw failure;
    },
  };
}
