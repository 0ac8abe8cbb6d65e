import type { RejectedCommandRow } from '../database/strata-database.ts';
import { applyScopedItems, type ScopedBatch } from './apply-scoped.ts';
import { applyUpstream, type UpstreamResult } from './apply-upstream.ts';
import type { ApplyUpstreamBatch, SyncContext } from './sync-context.ts';

/** Applies a sync session's upstream batches, whole-tenant or scoped, and counts what they brought. */
export interface UpstreamWriter {
  /** A whole-tenant batch (`/v1`): events and the cursor after them. */
  readonly apply: ApplyUpstreamBatch;
  /** A scoped batch (`/v2`): items and each scope's cursor. */
  applyScoped(batch: ScopedBatch): Promise<void>;
  /** Events (scoped: items) applied since the session started. */
  received(): number;
}

/** What applying upstream batches tells the rest of the sync client. */
export interface UpstreamWriterHandlers {
  /** Called with commands a rebase rejected (never with none). */
  readonly onRejected: (rows: readonly RejectedCommandRow[]) => void;
  /** Called when a batch confirmed our events, rebased pending commands or dropped aggregates: pushing may go on. */
  readonly onUnblocked: () => void;
  /** Fills the history holes scoped batches noted (`fillHoles`); they stay noted if it fails. */
  readonly fillHoles?: () => Promise<UpstreamResult>;
}

/**
 * @example
 * const upstream = createUpstreamWriter(context, { onRejected: show, onUnblocked: pushWake.wake });
 * await upstream.apply(page.events, page.cursor);
 */
export function createUpstreamWriter(
  context: SyncContext,
  handlers: UpstreamWriterHandlers,
): UpstreamWriter {
  let received = 0;
  // True at first: a session's first scoped batch also fills what an earlier one left noted.
  let unfilled = true;
  const applied = (
    count: number,
    result: UpstreamResult & { readonly dropped?: readonly unknown[] },
  ) => {
    received += count;
    if (result.rejected.length > 0) handlers.onRejected(result.rejected);
    // Our events coming back, a rebase, or a drop (its commands rejected) may unblock pushing.
    if (result.confirmed > 0 || result.rebased.length > 0 || (result.dropped?.length ?? 0) > 0) {
      handlers.onUnblocked();
    }
  };
  return {
    async apply(events, cursor) {
      applied(events.length, await applyUpstream(context, events, cursor));
    },
    async applyScoped(batch) {
      const result = await applyScopedItems(context, batch);
      applied(batch.items.length, result);
      const { fillHoles } = handlers;
      if (fillHoles !== undefined && (result.holes.length > 0 || unfilled)) {
        // Outside the batch's transaction (it reads the server); a failure waits for the next.
        const filled = await fillHoles().catch(() => undefined);
        unfilled = filled === undefined;
        if (filled !== undefined) applied(0, filled);
      }
    },
    received: () => received,
  };
}
