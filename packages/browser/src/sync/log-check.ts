import { isStrataError, type LogAnchor, LogDivergedError } from '@strata/core';

/**
 * The log this device read from (see rebootstrap.ts), for a catch-up's first page: the anchor it
 * sends and the log id it compares.
 */
export interface ReadLog {
  readonly read: () => Promise<{ readonly logId?: string; readonly anchor?: LogAnchor }>;
  /** Stores the server's log id, the first time it is seen. */
  readonly remember: (logId: string) => Promise<void>;
}

/**
 * After a catch-up's first page: a log id other than the one this device read is
 * `LOG_DIVERGED` (before anything of the page is stored); one seen for the first time is
 * remembered. A server that sends none (older) is taken for the same log.
 */
export async function checkSameLog(
  log: ReadLog,
  known: string | undefined,
  seen: string | undefined,
): Promise<void> {
  if (seen === undefined || seen === known) return;
  if (known !== undefined) {
    throw new LogDivergedError(
      `The server's log id changed from ${known} to ${seen}: its database was replaced`,
      { logId: seen },
    );
  }
  await log.remember(seen);
}

/**
 * A first pull that failed: `INVALID_CURSOR` for a device that had a cursor means the server's
 * log ends before what was read here, i.e. `LOG_DIVERGED`; anything else stays what it is.
 */
export function divergedOr(error: unknown, hadCursor: boolean): unknown {
  if (!hadCursor || !isStrataError(error, 'INVALID_CURSOR')) return error;
  return new LogDivergedError("The server's log ends before this device's cursor", {
    cause: error,
  });
}
