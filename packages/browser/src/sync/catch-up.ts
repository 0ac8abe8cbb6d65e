import type { UpstreamEvent } from './sync-context.ts';
import type { CatchUpProgress } from './sync-status.ts';
import type { SyncTransport } from './sync-transport.ts';

/** Stores a batch of the server's events and advances the cursor to `cursor`, in one go. */
export type ApplyUpstreamBatch = (
  events: readonly UpstreamEvent[],
  cursor: string,
) => Promise<void>;

export interface CatchUpOptions {
  readonly transport: Pick<SyncTransport, 'pull'>;
  /** The cursor stored by the last applied batch; undefined before the first. */
  readonly readCursor: () => Promise<string | undefined>;
  readonly apply: ApplyUpstreamBatch;
  /** Events this sync session has received so far (`apply` counts them). */
  readonly received: () => number;
  /** Events per page. */
  readonly pullLimit: number;
  /**
   * Whether the first page also asks how many events remain (a count query on the server), so
   * progress can show a total. Asked when the first page is pulled.
   */
  readonly countRemaining: () => boolean;
  /** Called after each page is stored, with the progress so far. */
  readonly onPage: (progress: CatchUpProgress) => Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * Pulls pages of the server's events after the stored cursor until the server has no more,
 * storing each; returns the cursor reached.
 *
 * @example
 * const cursor = await catchUp({ transport, readCursor, apply, received, pullLimit: 1000, ... });
 */
export async function catchUp(options: CatchUpOptions): Promise<string | undefined> {
  let cursor = await options.readCursor();
  let total: number | undefined;
  for (let first = true; ; first = false) {
    const page = await options.transport.pull(cursor, options.pullLimit, {
      count: first && options.countRemaining(),
      signal: options.signal,
    });
    if (page.events.length > 0 || page.cursor !== cursor) {
      await options.apply(page.events, page.cursor);
    }
    cursor = page.cursor;
    const received = options.received();
    if (page.remaining !== undefined) total = received + page.remaining;
    const progress = { received, done: !page.hasMore, ...(total === undefined ? {} : { total }) };
    await options.onPage(progress);
    if (!page.hasMore) return cursor;
  }
}
