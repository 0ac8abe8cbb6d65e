import { checkSameLog, divergedOr, type ReadLog } from './log-check.ts';
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
  /**
   * The log this device read from: the first page sends the anchor and compares the server's log
   * id; left out, neither is checked.
   */
  readonly log?: ReadLog;
  readonly signal: AbortSignal;
}

/**
 * Pulls pages of the server's events after the stored cursor until the server has no more,
 * storing each; returns the cursor reached. With `log`, a first page from another log than the
 * one this device read (another log id, the anchor gone, the cursor past its end) is
 * `LOG_DIVERGED`, before anything of it is stored.
 *
 * @example
 * const cursor = await catchUp({ transport, readCursor, apply, received, pullLimit: 1000, ... });
 */
export async function catchUp(options: CatchUpOptions): Promise<string | undefined> {
  let cursor = await options.readCursor();
  const log = (await options.log?.read()) ?? {};
  let total: number | undefined;
  for (let first = true; ; first = false) {
    const page = await options.transport
      .pull(cursor, options.pullLimit, {
        count: first && options.countRemaining(),
        ...(first && log.anchor !== undefined ? { anchor: log.anchor } : {}),
        signal: options.signal,
      })
      .catch((error: unknown) => {
        throw options.log === undefined ? error : divergedOr(error, cursor !== undefined);
      });
    if (first && options.log !== undefined) await checkSameLog(options.log, log.logId, page.logId);
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
