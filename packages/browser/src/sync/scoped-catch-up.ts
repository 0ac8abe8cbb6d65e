import { isStrataError } from '@strata/core';
import type { ScopedBatch } from './apply-scoped.ts';
import { checkSameLog, divergedOr, type ReadLog } from './log-check.ts';
import type { ScopeState } from './scope-set.ts';
import type { SyncTransport } from './sync-transport.ts';

export interface ScopedCatchUpOptions {
  readonly transport: Pick<SyncTransport, 'pullScopes'>;
  /** Stores a page and the scopes' cursors, in one go (see `applyScopedItems`). */
  readonly apply: (batch: ScopedBatch) => Promise<unknown>;
  /** Items per page. */
  readonly pullLimit: number;
  /**
   * Aggregate types this device may start from server snapshots, with the fingerprints it
   * decodes (`bootstrapTypes`): asked for while a scope back-fills, never once it is complete.
   */
  readonly snapshots?: Readonly<Record<string, string>>;
  /** Called after each page is stored. */
  readonly onPage?: (page: { readonly items: number; readonly done: boolean }) => Promise<void>;
  /**
   * The log this device read from: the first page sends the anchor and compares the server's log
   * id (see log-check.ts); left out, neither is checked.
   */
  readonly log?: ReadLog;
  readonly signal: AbortSignal;
}

/**
 * Pulls `scopes` (`POST /v2/pull`), each after its own cursor, until the server has no more,
 * storing each page with the cursors it reached; the last page marks them complete. Returns
 * the cursors reached: once nothing is left the server gives every scope the same one, so
 * they can be followed by one subscription. A refused scope throws the server's `FORBIDDEN`
 * (see `refusedScopes`); nothing of that request is stored.
 *
 * @example
 * const cursors = await pullScopesToEnd(states, { transport, apply, pullLimit: 1000, signal });
 */
export async function pullScopesToEnd(
  scopes: readonly ScopeState[],
  options: ScopedCatchUpOptions,
): Promise<Record<string, string>> {
  const cursors: Record<string, string> = {};
  for (const state of scopes) if (state.cursor !== undefined) cursors[state.key] = state.cursor;
  const keys = scopes.map((state) => state.key);
  // A scope back-fills until a page reaches the server's end; on every page until then it may
  // come as snapshots (the server leaves out what they stand for), so the flag never changes
  // mid-back-fill. A complete scope reads every event: the device holds its aggregates already.
  const snapshots = options.snapshots ?? {};
  const bootstraps = Object.keys(snapshots).length > 0;
  const bootstrap = new Set(
    bootstraps ? scopes.filter((state) => !state.complete).map((state) => state.key) : [],
  );
  const log = (await options.log?.read()) ?? {};
  const hadCursor = Object.keys(cursors).length > 0;
  for (let first = true; ; first = false) {
    const page = await options.transport
      .pullScopes(
        {
          scopes: keys.map((scope) => ({
            scope,
            ...(cursors[scope] === undefined ? {} : { after: cursors[scope] }),
            ...(bootstrap.has(scope) ? { bootstrap: true } : {}),
          })),
          limit: options.pullLimit,
          ...(bootstrap.size > 0 ? { snapshots } : {}),
        },
        {
          // A restore that kept the log id leaves it, and only the anchor tells (issue 17).
          ...(first && log.anchor !== undefined ? { anchor: log.anchor } : {}),
          signal: options.signal,
        },
      )
      .catch((error: unknown) => {
        throw options.log === undefined ? error : divergedOr(error, hadCursor);
      });
    if (first && options.log !== undefined) await checkSameLog(options.log, log.logId, page.logId);
    // Only the scopes asked for: a server naming others does not move them.
    let moved = false;
    for (const key of keys) {
      const cursor = page.cursors[key];
      if (cursor !== undefined && cursor !== cursors[key]) {
        cursors[key] = cursor;
        moved = true;
      }
    }
    // A poll that found nothing new writes nothing (as the whole-tenant catch-up).
    const completes = !page.hasMore && scopes.some((state) => !state.complete);
    if (page.items.length > 0 || moved || completes) {
      await options.apply({
        items: page.items,
        cursors: Object.fromEntries(
          keys.flatMap((key) => (cursors[key] ? [[key, cursors[key]]] : [])),
        ),
        ...(page.hasMore ? {} : { complete: keys }),
      });
    }
    await options.onPage?.({ items: page.items.length, done: !page.hasMore });
    if (!page.hasMore) return cursors;
  }
}

/** The scope keys a server's `FORBIDDEN` answer refused, or undefined for any other error. */
export function refusedScopes(error: unknown): readonly string[] | undefined {
  if (!isStrataError(error, 'FORBIDDEN')) return undefined;
  return error.scopes !== undefined && error.scopes.length > 0 ? error.scopes : undefined;
}
