import {
  isStrataError,
  type StoredEvent,
  type StrataError,
  type StreamRef,
  streamKey,
} from '@strata/core';
import type { CommitAppend } from '../postgres/append-commits.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';

/** A rejected commit's answer (both protocols). */
export interface Rejection {
  readonly commitId: string;
  readonly status: 'rejected';
  readonly code: string;
  readonly message: string;
  readonly currentVersion: number;
}

/** One answer of a push, with the aggregate it is about (when the commit names one validly). */
export interface LedgerEntry<TAnswer> {
  readonly answer: TAnswer | Rejection;
  readonly stream: StreamRef | undefined;
}

/** What a push ledger needs. */
export interface PushLedgerOptions<TAccepted> {
  readonly store: PostgresEventStore;
  /** The version a rejection reports (`PushOptions.versionOf`). */
  readonly versionOf: (stream: StreamRef) => Promise<number>;
  /** The answer to a commit whose events are stored (or were: a re-push). */
  readonly accepted: (commitId: string, events: readonly StoredEvent[]) => TAccepted;
}

/** How `reject` answers a commit of an aggregate on which an earlier commit was rejected. */
export interface RejectOptions {
  /** Whether this rejection blocks the later commits of its aggregate (default true). */
  readonly blocks?: boolean;
  /**
   * `keep`: answer with this refusal's code at the version the earlier rejection reported (an
   * invalid commit); `blocked` (default): answer that the earlier rejection blocks it.
   */
  readonly afterRejection?: 'keep' | 'blocked';
  /** The version to report, read when the commit was refused (server decisions of a run). */
  readonly currentVersion?: number;
}

/**
 * The answers of one push, in commit order, while its `events` commits wait to be stored in one
 * batch (`store.appendCommits`: a few round trips for the whole push). The rules stay those of
 * commits decided one after the other: a rejected commit blocks the later commits of its
 * aggregate, and a commit refused before it is stored (invalid, forbidden) first lets the queued
 * commits of its aggregate settle, so it is answered as if they had gone first.
 *
 * @example
 * const ledger = createPushLedger({ store, versionOf, accepted });
 * ledger.queue(commit.commitId, { stream, events, expectedVersion });
 * const entries = await ledger.finish();
 */
export function createPushLedger<TAccepted>(options: PushLedgerOptions<TAccepted>) {
  const entries: LedgerEntry<TAccepted>[] = [];
  /** Aggregates with a rejected commit, and the version that rejection reported. */
  const rejected = new Map<string, number>();
  let queued: {
    readonly index: number;
    readonly commitId: string;
    readonly append: CommitAppend;
  }[] = [];
  const queuedStreams = new Set<string>();

  const rejection = async (
    commitId: string,
    stream: StreamRef | undefined,
    error: StrataError,
    blocks: boolean,
    given?: number,
  ): Promise<Rejection> => {
    const currentVersion = isStrataError(error, 'VERSION_CONFLICT')
      ? error.actualVersion
      : (given ?? (stream === undefined ? 0 : await options.versionOf(stream)));
    if (blocks && stream !== undefined) rejected.set(streamKey(stream), currentVersion);
    return {
      commitId,
      status: 'rejected',
      code: error.code,
      message: error.message,
      currentVersion,
    };
  };

  /** Stores the queued commits, in one batch, and fills in their answers. */
  const settle = async (): Promise<void> => {
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    queuedStreams.clear();
    const outcomes = await options.store.appendCommits(batch.map(({ append }) => append));
    for (const [at, outcome] of outcomes.entries()) {
      const { index, commitId, append } = batch[at] as (typeof batch)[number];
      const { stream } = append;
      const answer =
        outcome.kind === 'appended'
          ? options.accepted(commitId, outcome.events)
          : outcome.kind === 'blocked'
            ? blockedByEarlierRejection(commitId, rejected.get(streamKey(stream)) ?? 0)
            : await rejection(commitId, stream, outcome.error, true);
      entries[index] = { answer, stream };
    }
  };

  return {
    /** The version an earlier rejection of this push reported for the aggregate, if any. */
    rejectedAt: (stream: StreamRef): number | undefined => rejected.get(streamKey(stream)),
    /** Whether a commit of the aggregate waits to be stored. */
    holds: (stream: StreamRef): boolean => queuedStreams.has(streamKey(stream)),
    /** Queues a commit to be stored with the others (`appendCommits`). */
    queue(commitId: string, append: CommitAppend): void {
      queued.push({ index: entries.length, commitId, append });
      queuedStreams.add(streamKey(append.stream));
      entries.push({ answer: undefined as never, stream: append.stream });
    },
    /** Answers a commit decided elsewhere (server-side `decide`, `verify`). */
    answer(answer: TAccepted | Rejection, stream: StreamRef | undefined): void {
      entries.push({ answer, stream });
    },
    /** Answers a commit refused before it was stored, as if the queued ones had gone first. */
    async reject(
      commitId: string,
      stream: StreamRef | undefined,
      error: StrataError,
      rejectOptions: RejectOptions = {},
    ): Promise<void> {
      const { blocks = true, afterRejection = 'blocked', currentVersion } = rejectOptions;
      if (stream !== undefined && queuedStreams.has(streamKey(stream))) await settle();
      const earlier = stream === undefined ? undefined : rejected.get(streamKey(stream));
      const answer =
        earlier === undefined
          ? await rejection(commitId, stream, error, blocks, currentVersion)
          : afterRejection === 'blocked'
            ? blockedByEarlierRejection(commitId, earlier)
            : {
                commitId,
                status: 'rejected' as const,
                code: error.code,
                message: error.message,
                currentVersion: earlier,
              };
      entries.push({ answer, stream });
    },
    settle,
    /** Stores what is queued; the answers, in commit order. */
    async finish(): Promise<readonly LedgerEntry<TAccepted>[]> {
      await settle();
      return entries;
    },
  };
}

/**
 * The answer to a commit of an aggregate on which an earlier commit of the same push was
 * rejected: it was decided on top of that one (both protocols, where versions are the client's).
 */
export function blockedByEarlierRejection(commitId: string, currentVersion: number) {
  return {
    commitId,
    status: 'rejected',
    code: 'VERSION_CONFLICT',
    message: 'An earlier commit of this push on the same aggregate was rejected',
    currentVersion,
  } as const;
}
