import { isStrataError, StorageFailedError, type StorageFailureReason } from '@strata/core';

const REASON_BY_NAME: Record<string, StorageFailureReason> = {
  QuotaExceededError: 'QUOTA_EXCEEDED',
  MissingAPIError: 'UNAVAILABLE',
  OpenFailedError: 'UNAVAILABLE',
  DatabaseClosedError: 'UNAVAILABLE',
  InvalidStateError: 'UNAVAILABLE',
  VersionError: 'UNAVAILABLE',
  VersionChangeError: 'UPGRADE_BLOCKED',
  AbortError: 'ABORTED',
  TransactionInactiveError: 'ABORTED',
  PrematureCommitError: 'ABORTED',
};

/** The most specific storage reason found in a Dexie/IndexedDB error and the errors it wraps. */
function reasonOf(error: unknown, depth = 0): StorageFailureReason | undefined {
  if (depth > 5 || error === null || typeof error !== 'object') return undefined;
  const { name, inner, failures } = error as {
    name?: unknown;
    inner?: unknown;
    failures?: unknown;
  };
  // Dexie wraps the IndexedDB error (`inner`) or, for bulk operations, lists `failures`.
  const nested = [inner, ...(Array.isArray(failures) ? failures : [])]
    .map((cause) => reasonOf(cause, depth + 1))
    .find((reason) => reason !== undefined && reason !== 'ABORTED');
  return nested ?? (typeof name === 'string' ? REASON_BY_NAME[name] : undefined);
}

/** Whether an error came from Dexie or IndexedDB rather than from app code. */
function isStorageError(error: unknown): boolean {
  if (error instanceof DOMException) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return (
    typeof name === 'string' &&
    (name in REASON_BY_NAME ||
      name === 'BulkError' ||
      name === 'ConstraintError' ||
      name === 'DataError' ||
      name === 'DataCloneError' ||
      name === 'UnknownError' ||
      name === 'TimeoutError')
  );
}

/**
 * Turns Dexie and IndexedDB failures into `StorageFailedError` with a reason; strata errors and
 * errors thrown by app code (projections, reactors) pass through unchanged.
 */
export function toStorageError(error: unknown): unknown {
  if (isStrataError(error) || !isStorageError(error)) return error;
  const reason = reasonOf(error) ?? 'UNKNOWN';
  const message = error instanceof Error ? error.message : String(error);
  return new StorageFailedError(`IndexedDB: ${message}`, { reason, cause: error });
}

/** Runs `work`, rethrowing storage failures as typed errors. */
export async function withStorageErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toStorageError(error);
  }
}
