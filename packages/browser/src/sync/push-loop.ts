import {
  type BackoffOptions,
  backoffDelay,
  COMMAND_PROTOCOL_VERSION,
  type CommandCommit,
  type CommandPushResponse,
  isStrataError,
  type StrataError,
  type WakeSignal,
} from '@strata/core';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import type { PushOutcome } from './push-pending-commands.ts';
import { retryDelay } from './retry-delay.ts';
import type { SharedConnection } from './shared-connection.ts';

/**
 * How long the loop sleeps with nothing pending. New commands wake it (the pending commands are
 * watched), so this is only a safety net against a missed wake.
 */
export const IDLE_RECHECK_MS = 60_000;

export interface PushLoopOptions {
  /** The oldest pending commands as commits (see `collectCommits`). */
  readonly collect: (maxEvents: number, maxCommits: number) => Promise<CommandCommit[]>;
  /** Sends one push request. */
  readonly push: (commits: CommandCommit[]) => Promise<CommandPushResponse>;
  /**
   * The batch after `commits`, to push while their answer is stored, when the answer allows it
   * (see `followingCommits`); undefined (or left out) stores the answer first.
   */
  readonly collectFollowing?: (
    commits: readonly CommandCommit[],
    response: CommandPushResponse,
    maxEvents: number,
    maxCommits: number,
  ) => Promise<CommandCommit[] | undefined>;
  /**
   * Reads the batch after `inFlight` (sent ahead, its answer awaited) for `collectFollowing` to
   * push at once when that answer comes (see `createFollowingBatches`); left out, nothing is read
   * ahead.
   */
  readonly prepareFollowing?: (
    inFlight: readonly CommandCommit[],
    maxEvents: number,
    maxCommits: number,
  ) => Promise<void>;
  /** Stores the server's answers (see `applyPushResults`). */
  readonly applyResults: (
    commits: readonly CommandCommit[],
    response: CommandPushResponse,
  ) => Promise<PushOutcome>;
  readonly maxEventsPerPush: number;
  readonly maxCommitsPerPush: number;
  /** The loop sleeps on it (idle, backoff); new commands or upstream confirmations wake it. */
  readonly wake: WakeSignal;
  /**
   * After a failed push the loop sleeps on this one instead: coming back online or a request
   * that reached the server ends the wait early, while new commands wait for the backoff (a
   * command a second must not mean a push a second to a failing server). Defaults to `wake`.
   */
  readonly retryWake?: WakeSignal;
  /** Asks the upstream loop to catch up now: the server is ahead of us. */
  readonly pullNow: () => void;
  /** Called after each answer with the commands it refused for good (often none). */
  readonly onRejected: (rows: readonly RejectedCommandRow[]) => void;
  /** Called each time nothing is left to push (e.g. to resolve `whenSynced`). */
  readonly onIdle: () => void;
  readonly connection: Pick<SharedConnection, 'share' | 'fail'>;
  /** Between failed attempts and after conflicts; retries never stop. */
  readonly backoff: BackoffOptions | undefined;
  readonly random: () => number;
  /** Ends the loop. */
  readonly signal: AbortSignal;
}

/** A push sent ahead, and its answer once settled (never a rejected promise: it may be dropped). */
interface PushAhead {
  readonly commits: CommandCommit[];
  readonly answer: Promise<
    | { readonly ok: true; readonly response: CommandPushResponse | 'halve' }
    | { readonly ok: false; readonly error: unknown }
  >;
}

/**
 * Pushes the pending commands in order until `signal` aborts: collect a batch, push it, store
 * the answers. A batch the server refuses as too large or malformed is halved until the one
 * commit it cannot take is found and rejected; conflicts wait for upstream (a rebase wakes the
 * loop); failures are shared and retried after a backoff (at least the server's `Retry-After`).
 *
 * With `collectFollowing`, an answer that lets the next batch go before it is stored (every
 * commit accepted as predicted) sends that batch first, then stores the answer while the server
 * works (issue 16); with `prepareFollowing` too, the batch after the one sent ahead is read
 * while the server works on it. When storing fails, the batch sent ahead has its answer
 * dropped: both go again (the server answers a repeated commit as it did the first time).
 *
 * @example
 * await runPushLoop({ collect, push, applyResults, maxEventsPerPush: 500, ... });
 */
export async function runPushLoop(options: PushLoopOptions): Promise<void> {
  const { connection, signal, wake } = options;
  let batchLimit = options.maxCommitsPerPush;
  let ahead: PushAhead | undefined;
  for (let failures = 0; !signal.aborted; ) {
    try {
      let commits: CommandCommit[];
      let response: CommandPushResponse | 'halve';
      if (ahead === undefined) {
        commits = await options.collect(options.maxEventsPerPush, batchLimit);
        if (commits.length === 0) {
          options.onIdle();
          await wake.sleep(IDLE_RECHECK_MS);
          continue;
        }
        response = await pushOrRefuse(options.push, commits);
      } else {
        commits = ahead.commits;
        const answer = await ahead.answer;
        ahead = undefined;
        if (!answer.ok) throw answer.error;
        response = answer.response;
      }
      if (response === 'halve') {
        // Find the commit the server cannot take by halving the batch.
        batchLimit = Math.max(1, Math.floor(commits.length / 2));
        continue;
      }
      batchLimit = options.maxCommitsPerPush;
      const following = await options.collectFollowing?.(
        commits,
        response,
        options.maxEventsPerPush,
        batchLimit,
      );
      if (following !== undefined && following.length > 0 && !signal.aborted) {
        ahead = {
          commits: following,
          answer: pushOrRefuse(options.push, following).then(
            (sent) => ({ ok: true, response: sent }) as const,
            (error: unknown) => ({ ok: false, error }) as const,
          ),
        };
      }
      const outcome = await options.applyResults(commits, response);
      options.onRejected(outcome.rejected);
      await connection.share({ lastError: undefined });
      if (outcome.conflicts.length > 0 || outcome.retryLater > 0) {
        // The server is ahead: its events arrive upstream and rebase the pending commands,
        // which wakes this loop; polling clients pull now.
        options.pullNow();
        await wake.sleep(backoffDelay(failures++, options.backoff, options.random));
      } else {
        failures = 0;
        // While the batch sent ahead is with the server, the one after it is read.
        if (ahead !== undefined) {
          await options.prepareFollowing?.(ahead.commits, options.maxEventsPerPush, batchLimit);
        }
      }
    } catch (error) {
      // Its batch follows commits that are not stored: its answer goes, the batch goes again.
      if (ahead !== undefined) await ahead.answer;
      ahead = undefined;
      if (signal.aborted) return;
      await connection.fail(error);
      await (options.retryWake ?? wake).sleep(
        retryDelay(error, failures++, options.backoff, options.random),
      );
    }
  }
}

/**
 * Pushes `commits`. When the server refuses the whole request as too large or malformed, a
 * batch of several is to be halved (`'halve'`), and a single commit can never be accepted: it
 * gets a rejection as its answer.
 */
async function pushOrRefuse(
  push: PushLoopOptions['push'],
  commits: CommandCommit[],
): Promise<CommandPushResponse | 'halve'> {
  try {
    return await push(commits);
  } catch (error) {
    const refused =
      isStrataError(error, 'PAYLOAD_TOO_LARGE') || isStrataError(error, 'VALIDATION_FAILED');
    if (!refused) throw error;
    if (commits.length > 1) return 'halve';
    return {
      protocol: COMMAND_PROTOCOL_VERSION,
      results: [refusal(commits[0] as CommandCommit, error)],
    };
  }
}

/** The server refused a whole one-commit push: that commit can never be accepted. */
function refusal(
  commit: CommandCommit,
  error: StrataError,
): CommandPushResponse['results'][number] {
  return {
    commitId: commit.commitId,
    status: 'rejected',
    code: error.code,
    message: error.message,
    currentVersion: 0,
  };
}
