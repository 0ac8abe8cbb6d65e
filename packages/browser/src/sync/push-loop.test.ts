import {
  type CommandCommit,
  type CommandPushResponse,
  createWakeSignal,
  InternalError,
  PayloadTooLargeError,
  UnavailableError,
} from '@strata/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { IDLE_RECHECK_MS, type PushLoopOptions, runPushLoop } from './push-loop.ts';
import type { PushOutcome } from './push-pending-commands.ts';

const backoff = { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' } as const;
const commit = (commitId: string) => ({ commitId, events: [] }) as unknown as CommandCommit;
const accepted = (commits: CommandCommit[]): CommandPushResponse => ({
  protocol: 2,
  results: commits.map((c) => ({ commitId: c.commitId, status: 'accepted', events: [] })),
});

/**
 * A push loop over pending commits `ids`, against a server the test scripts: each push takes the
 * next scripted answer (a response or an error), or accepts everything. Answers are applied
 * as `applyPushResults` would: accepted and rejected commits stop pending.
 */
function setUp(ids: string[], overrides: Partial<PushLoopOptions> = {}) {
  const stopping = new AbortController();
  const wake = createWakeSignal();
  const pending = ids.map(commit);
  const pushes: { at: number; ids: string[] }[] = [];
  const answers: ((commits: CommandCommit[]) => CommandPushResponse | Error)[] = [];
  const outcomes: Partial<PushOutcome>[] = [];
  const rejected: RejectedCommandRow[][] = [];
  const options: PushLoopOptions = {
    collect: async (_maxEvents, maxCommits) => pending.slice(0, maxCommits),
    push: async (commits) => {
      pushes.push({ at: Date.now(), ids: commits.map((c) => c.commitId) });
      const answer = answers.shift()?.(commits) ?? accepted(commits);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    applyResults: vi.fn(async (_commits, response: CommandPushResponse) => {
      const rows: RejectedCommandRow[] = [];
      for (const result of response.results) {
        if (result.status === 'rejected') {
          rows.push({ commandId: result.commitId, code: result.code } as RejectedCommandRow);
        }
        const index = pending.findIndex((c) => c.commitId === result.commitId);
        if (index >= 0) pending.splice(index, 1);
      }
      return { accepted: 0, conflicts: [], rejected: rows, retryLater: 0, ...outcomes.shift() };
    }),
    maxEventsPerPush: 500,
    maxCommitsPerPush: 4,
    wake,
    pullNow: vi.fn(),
    onRejected: (rows) => {
      if (rows.length > 0) rejected.push([...rows]);
    },
    onIdle: vi.fn(),
    connection: { share: vi.fn(async () => undefined), fail: vi.fn(async () => undefined) },
    backoff,
    random: () => 0.5,
    signal: stopping.signal,
    ...overrides,
  };
  const stop = async (running: Promise<void>) => {
    stopping.abort();
    wake.wake();
    await running;
  };
  const pushed = () => pushes.map((push) => push.ids);
  return { options, pending, pushes, pushed, answers, outcomes, rejected, wake, stop };
}

describe('runPushLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pushes the pending commits in batches, stores the answers, then idles until woken', async () => {
    const { options, pending, pushed, wake, stop } = setUp(['a', 'b', 'c', 'd', 'e']);
    const running = runPushLoop({ ...options, maxCommitsPerPush: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(pushed()).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(options.applyResults).toHaveBeenCalledTimes(3);
    expect(options.connection.share).toHaveBeenCalledWith({ lastError: undefined });
    expect(options.onIdle).toHaveBeenCalledTimes(1);

    pending.push(commit('f'));
    wake.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(pushed()).toEqual([['a', 'b'], ['c', 'd'], ['e'], ['f']]);
    expect(options.onIdle).toHaveBeenCalledTimes(2);
    await stop(running);
  });

  it('looks again after a minute idle, even if nothing woke it', async () => {
    const { options, pending, pushed, stop } = setUp([]);
    const running = runPushLoop(options);
    await vi.advanceTimersByTimeAsync(0);
    pending.push(commit('a'));
    await vi.advanceTimersByTimeAsync(IDLE_RECHECK_MS - 1);
    expect(pushed()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pushed()).toEqual([['a']]);
    await stop(running);
  });

  it('halves a batch the server refuses as too large until the one commit it cannot take is rejected', async () => {
    const { options, pushed, answers, rejected, pending, stop } = setUp([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
    const tooLarge = (commits: CommandCommit[]) =>
      commits.some((c) => c.commitId === 'c')
        ? new PayloadTooLargeError('push too large', 1000)
        : accepted(commits);
    answers.push(...Array.from({ length: 6 }, () => tooLarge));
    const running = runPushLoop(options);
    await vi.advanceTimersByTimeAsync(0);
    // After each answer the batch size is back to the maximum.
    expect(pushed()).toEqual([
      ['a', 'b', 'c', 'd'],
      ['a', 'b'],
      ['c', 'd', 'e', 'f'],
      ['c', 'd'],
      ['c'],
      ['d', 'e', 'f'],
    ]);
    expect(rejected).toEqual([[{ commandId: 'c', code: 'PAYLOAD_TOO_LARGE' }]]);
    expect(options.applyResults).toHaveBeenCalledWith([commit('c')], {
      protocol: 2,
      results: [
        {
          commitId: 'c',
          status: 'rejected',
          code: 'PAYLOAD_TOO_LARGE',
          message: 'push too large',
          currentVersion: 0,
        },
      ],
    });
    expect(pending).toEqual([]);
    expect(options.connection.fail).not.toHaveBeenCalled();
    await stop(running);
  });

  it('on conflicts asks upstream to pull now and backs off, longer while they last', async () => {
    const { options, pushes, outcomes, stop } = setUp([]);
    const conflict = { conflicts: [{ aggregateType: 'T', aggregateId: 'a', currentVersion: 2 }] };
    // Answers: conflict, retry later, accepted, conflict, accepted. A conflicting commit stays
    // pending until upstream rebases it, so each round collects it again.
    outcomes.push(conflict, { retryLater: 1 }, {}, conflict);
    const running = runPushLoop({
      ...options,
      collect: async () => (pushes.length < 5 ? [commit('a')] : []),
    });
    await vi.advanceTimersByTimeAsync(1000);
    // 100 ms after the first, 200 after the second; the success resets the backoff.
    expect(pushes.map((push) => push.at)).toEqual([0, 100, 300, 300, 400]);
    expect(options.pullNow).toHaveBeenCalledTimes(3);
    await stop(running);
  });

  it("shares a failed push and retries it after the backoff, at least the server's Retry-After", async () => {
    const { options, pushes, answers, stop } = setUp(['a', 'b']);
    const failure = new UnavailableError('database down', { retryAfterSeconds: 1 });
    answers.push(
      () => new InternalError('boom'),
      () => failure,
    );
    const running = runPushLoop(options);
    await vi.advanceTimersByTimeAsync(2000);
    // Not halved: only a refused request is. 100 ms after the first failure, then 1 s.
    expect(pushes).toEqual([
      { at: 0, ids: ['a', 'b'] },
      { at: 100, ids: ['a', 'b'] },
      { at: 1100, ids: ['a', 'b'] },
    ]);
    expect(options.connection.fail).toHaveBeenCalledTimes(2);
    expect(options.connection.fail).toHaveBeenLastCalledWith(failure);
    await stop(running);
  });

  it('with retryWake, new commands wait for the backoff after a failure; a retry wake ends it', async () => {
    const retryWake = createWakeSignal();
    const { options, pushes, answers, wake, stop } = setUp(['a'], { retryWake });
    for (let i = 0; i < 6; i++) answers.push(() => new InternalError('500'));
    const running = runPushLoop(options);
    // A command every 30 ms while the server fails: the pushes follow the backoff all the same.
    const commands = setInterval(() => wake.wake(), 30);
    await vi.advanceTimersByTimeAsync(1600);
    clearInterval(commands);
    expect(pushes.map((push) => push.at)).toEqual([0, 100, 300, 700, 1500]);
    // The server is reachable again (say, the live stream opened): the loop retries at once.
    retryWake.wake();
    await vi.advanceTimersByTimeAsync(1);
    expect(pushes.map((push) => push.at)).toEqual([0, 100, 300, 700, 1500, 1600]);
    const stopped = stop(running);
    retryWake.wake();
    await stopped;
  });

  it('without retryWake, a wake ends the backoff (the default)', async () => {
    const { options, pushes, answers, wake, stop } = setUp(['a']);
    answers.push(() => new InternalError('500'));
    const running = runPushLoop(options);
    await vi.advanceTimersByTimeAsync(10);
    wake.wake();
    await vi.advanceTimersByTimeAsync(1);
    expect(pushes.map((push) => push.at)).toEqual([0, 10]);
    await stop(running);
  });

  it('with collectFollowing, sends the next batch before storing an answer, in order', async () => {
    const { options, pending, pushed, stop } = setUp(['a', 'b', 'c', 'd', 'e']);
    const steps: string[] = [];
    const running = runPushLoop({
      ...options,
      maxCommitsPerPush: 2,
      push: async (commits) => {
        steps.push(`push ${commits.map((c) => c.commitId).join('')}`);
        return options.push(commits);
      },
      collectFollowing: async (commits, _response, _maxEvents, maxCommits) =>
        pending.filter((c) => !commits.includes(c)).slice(0, maxCommits),
      applyResults: async (commits, response) => {
        steps.push(`store ${commits.map((c) => c.commitId).join('')}`);
        return options.applyResults(commits, response);
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(pushed()).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(steps).toEqual(['push ab', 'push cd', 'store ab', 'push e', 'store cd', 'store e']);
    expect(pending).toEqual([]);
    expect(options.onIdle).toHaveBeenCalledTimes(1);
    await stop(running);
  });

  it('with prepareFollowing, reads the batch after the one sent ahead once the answer is stored, never after a conflict', async () => {
    const { options, pending, outcomes, stop } = setUp(['a', 'b', 'c', 'd', 'e']);
    const steps: string[] = [];
    const ids = (commits: readonly CommandCommit[]) => commits.map((c) => c.commitId).join('');
    // cd's answer is a conflict: nothing is read ahead after storing it.
    outcomes.push({}, { conflicts: [{ aggregateType: 't', aggregateId: 'c', currentVersion: 1 }] });
    const running = runPushLoop({
      ...options,
      maxCommitsPerPush: 2,
      push: async (commits) => {
        steps.push(`push ${ids(commits)}`);
        return options.push(commits);
      },
      collectFollowing: async (commits, _response, _maxEvents, maxCommits) =>
        pending.filter((c) => !commits.includes(c)).slice(0, maxCommits),
      prepareFollowing: async (inFlight, maxEvents, maxCommits) => {
        steps.push(`prepare after ${ids(inFlight)} (${maxEvents}, ${maxCommits})`);
      },
      applyResults: async (commits, response) => {
        steps.push(`store ${ids(commits)}`);
        return options.applyResults(commits, response);
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(steps.slice(0, 6)).toEqual([
      'push ab',
      'push cd',
      'store ab',
      'prepare after cd (500, 2)',
      'push e',
      'store cd',
    ]);
    expect(steps).not.toContain('prepare after e (500, 2)');
    await stop(running);
  });

  it('when storing an answer fails, drops the answer of the batch sent ahead and pushes both again', async () => {
    const { options, pending, pushed, stop } = setUp(['a', 'b', 'c', 'd']);
    let failOnce = true;
    const running = runPushLoop({
      ...options,
      maxCommitsPerPush: 2,
      collectFollowing: async (commits, _response, _maxEvents, maxCommits) =>
        pending.filter((c) => !commits.includes(c)).slice(0, maxCommits),
      applyResults: async (commits, response) => {
        if (failOnce) {
          failOnce = false;
          throw new InternalError('disk full');
        }
        return options.applyResults(commits, response);
      },
    });
    await vi.advanceTimersByTimeAsync(1000);
    // ab's answer was not stored, so cd's (sent ahead) is dropped: after the backoff both go again.
    expect(pushed()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(options.applyResults).toHaveBeenCalledTimes(2);
    expect(options.connection.fail).toHaveBeenCalledTimes(1);
    expect(pending).toEqual([]);
    await stop(running);
  });

  it('sends nothing ahead when collectFollowing says the answer must be stored first', async () => {
    const { options, pushed, stop } = setUp(['a', 'b', 'c']);
    const steps: string[] = [];
    const running = runPushLoop({
      ...options,
      maxCommitsPerPush: 2,
      push: async (commits) => {
        steps.push(`push ${commits.map((c) => c.commitId).join('')}`);
        return options.push(commits);
      },
      collectFollowing: async () => undefined,
      applyResults: async (commits, response) => {
        steps.push(`store ${commits.map((c) => c.commitId).join('')}`);
        return options.applyResults(commits, response);
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(pushed()).toEqual([['a', 'b'], ['c']]);
    expect(steps).toEqual(['push ab', 'store ab', 'push c', 'store c']);
    await stop(running);
  });

  it('ends on stop, without sharing the failure the stop caused', async () => {
    const stopping = new AbortController();
    const { options } = setUp(['a'], {
      push: async () => {
        stopping.abort();
        throw new DOMException('The operation was aborted.', 'AbortError');
      },
    });
    await runPushLoop({ ...options, signal: stopping.signal });
    expect(options.connection.fail).not.toHaveBeenCalled();
  });
});
