import {
  type CommandCommit,
  type CommandPushResponse,
  envelopeOf,
  type StreamRef,
  streamKey,
} from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type {
  EventRow,
  PendingCommandRow,
  RejectedCommandRow,
} from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { type AnsweredScopes, applyAnsweredScopes } from './answered-scopes.ts';
import { LAST_SYNCED_AT_KEY } from './apply-upstream.ts';
import { sweepLeaving } from './drop-aggregates.ts';
import { deleteRows, rowsWhere } from './keyed-rows.ts';
import { eventsOfCommands } from './pending-commands.ts';
import { type Rejection, rebaseAggregate } from './rebase.ts';
import { reproject } from './reproject.ts';
import { membershipsOf } from './scope-members.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';

/** Codes after which the same commit may succeed later: the server could not decide now. */
const TRANSIENT_CODES = new Set(['UNAVAILABLE', 'STORAGE_FAILED', 'INTERNAL']);

/**
 * How much JSON text (in UTF-16 units) the commits of one push may come to: half the server's
 * default body limit (1 MiB), so that a push of many large commits (500 commits at the default
 * limits) is not refused as too large and halved every time, and non-ASCII text (more bytes
 * than units) still fits.
 */
const MAX_PUSH_TEXT = 512 * 1024;

/**
 * The oldest pending commands as commits, in execution order, up to `maxEvents` events and
 * `MAX_PUSH_TEXT` of JSON (at least one commit, however large: the server answers an oversized
 * one with a typed rejection). Each carries its command as the user issued it, for the server
 * to decide again, and the events this device predicted for it.
 */
export async function collectCommits(
  context: SyncContext,
  maxEvents: number,
  maxCommits: number,
  { after }: { readonly after?: readonly CommandCommit[] } = {},
): Promise<CommandCommit[]> {
  const { db } = context.strata;
  const afterSeq = after?.length === 0 ? undefined : after?.map(seqOf).at(-1);
  return withStorageErrors(() =>
    db.transaction('r', [db.commands, db.events], async () => {
      const commits: CommandCommit[] = [];
      let events = 0;
      let text = 0;
      const rows: PendingCommandRow[] = await (afterSeq === undefined
        ? db.commands.orderBy('seq')
        : db.commands.where('seq').above(afterSeq)
      )
        .limit(maxCommits)
        .toArray();
      const byId = await eventsOfCommands(db, rows);
      for (const row of rows) {
        const pending = row.eventIds
          .map((id) => byId.get(id))
          .filter((event) => event?.pending === 1) as EventRow[];
        if (pending.length === 0) continue;
        if (commits.length > 0 && events + pending.length > maxEvents) break;
        pending.sort((a, b) => a.version - b.version);
        const commit: CommandCommit = {
          commitId: row.commandId,
          command: {
            aggregateType: row.aggregateType,
            aggregateId: row.aggregateId,
            name: row.command,
            // The input as the caller gave it: the server parses it with the same schema.
            input: row.input as CommandCommit['command']['input'],
            // Past 1 only: a server from before input versions takes the commands it can.
            ...(row.inputVersion === undefined || row.inputVersion === 1
              ? {}
              : { inputVersion: row.inputVersion }),
            issuedAt: row.executedAt,
          },
          // Stored data and metadata are the JSON the command produced.
          events: pending.map(envelopeOf) as CommandCommit['events'],
        };
        const size = JSON.stringify(commit).length;
        if (commits.length > 0 && text + size > MAX_PUSH_TEXT) break;
        text += size;
        collected.set(commit, {
          seq: row.seq as number,
          eventIds: row.eventIds,
          rows: pending,
          complete: pending.length === row.eventIds.length,
        });
        commits.push(commit);
        events += pending.length;
      }
      return commits;
    }),
  );
}

/**
 * What `collectCommits` read for a commit: its command row's `seq` and event ids, and the rows of
 * its pending events (`complete` when that was every one of them), so storing the answer need
 * not read them again.
 */
interface Collected {
  readonly seq: number;
  readonly eventIds: readonly string[];
  readonly rows: readonly EventRow[];
  readonly complete: boolean;
}

const collected = new WeakMap<CommandCommit, Collected>();

/**
 * The rows `collectCommits` read for these commits (in order): their command rows' `seq`s and
 * their events' positions. Throws for a commit it did not make.
 */
export function collectedKeys(commits: readonly CommandCommit[]): {
  readonly seqs: number[];
  readonly positions: number[];
} {
  const seqs = commits.map(seqOf);
  const positions = commits.flatMap((commit) =>
    (collected.get(commit) as Collected).rows.map((row) => row.position as number),
  );
  return { seqs, positions };
}

function seqOf(commit: CommandCommit): number {
  const seq = collected.get(commit)?.seq;
  if (seq === undefined) throw new TypeError('Only commits from collectCommits follow one another');
  return seq;
}

/**
 * The batch to push while `commits`' answer is stored (issue 16: the server's time and the
 * client's bookkeeping overlap), or undefined when the answer must be stored first. Only an
 * answer that accepted every commit exactly as predicted (the same event ids and versions)
 * qualifies: storing it changes no later commit. Anything else (a rejection, a conflict, a
 * retry, events the server decided, an answer that stops short) may rebase the commits after
 * it, so they are collected only once it is stored.
 *
 * @example
 * const following = await followingCommits(context, commits, response, 500, 200);
 */
export async function followingCommits(
  context: SyncContext,
  commits: readonly CommandCommit[],
  response: CommandPushResponse,
  maxEvents: number,
  maxCommits: number,
): Promise<CommandCommit[] | undefined> {
  if (!acceptedAsPredicted(commits, response)) return undefined;
  return collectCommits(context, maxEvents, maxCommits, { after: commits });
}

/** True when `response` accepted each of `commits`, in order, with exactly its predicted events. */
export function acceptedAsPredicted(
  commits: readonly CommandCommit[],
  response: CommandPushResponse,
): boolean {
  return (
    commits.length > 0 &&
    response.results.length === commits.length &&
    commits.every((commit, index) => {
      const result = response.results[index];
      if (result?.status !== 'accepted' || result.commitId !== commit.commitId) return false;
      if (!collected.has(commit) || result.events.length !== commit.events.length) return false;
      return result.events.every((event, at) => {
        const predicted = commit.events[at];
        return (
          predicted !== undefined &&
          event.id === predicted.id &&
          event.version === predicted.version &&
          event.aggregateType === predicted.aggregateType &&
          event.aggregateId === predicted.aggregateId
        );
      });
    })
  );
}

/** What the server's answer to a push changed locally. */
export interface PushOutcome {
  readonly accepted: number;
  /**
   * Aggregates the server is ahead on: their events must come upstream first (a version
   * conflict, or stored events that do not follow the local confirmed version).
   */
  readonly conflicts: readonly (StreamRef & { readonly currentVersion: number })[];
  /** Commands the server refused for good, moved to the rejected list (with those a rebase refused). */
  readonly rejected: readonly RejectedCommandRow[];
  /** Commits the server could not decide now. */
  readonly retryLater: number;
}

/** The server's answers about one aggregate's commits, in push order. */
interface AggregateAnswers {
  readonly stream: StreamRef;
  readonly accepted: { readonly commitId: string; readonly events: readonly UpstreamEvent[] }[];
  readonly rejections: Map<string, Rejection>;
}

/**
 * Applies the server's per-commit answers in one transaction. An accepted command stops
 * pending. Where the server stored exactly the predicted events (same ids and versions: the
 * `verify` and `events` authorities), they are confirmed in place: the command row goes, which
 * confirms them, and the event rows are not rewritten (`pendingIdsAmong`, issue 16).
 * Otherwise (the server decided its own events, or none) the aggregate is rebased with the
 * server's events as upstream: the prediction goes and later pending commands re-run on top;
 * stored events that do not follow the local confirmed version are left for upstream to bring
 * (the aggregate is reported as a conflict, so the loop pulls). A command refused for good
 * moves to the rejected list and its aggregate is rebased without it. An accepted command that
 * is no longer pending (upstream brought its events first) changes nothing.
 *
 * `scoped` (a device that holds scopes): the scopes an accepted answer names place its
 * aggregate (`applyAnsweredScopes`); one no held scope holds is dropped once no command on it
 * is pending, in the same transaction. A version conflict on an aggregate kept only for its
 * pending commands (it left the held scopes) is a `FORBIDDEN` rejection: upstream never brings
 * the events that would rebase it.
 */
export async function applyPushResults(
  context: SyncContext,
  commits: readonly CommandCommit[],
  response: CommandPushResponse,
  { scoped = false }: { readonly scoped?: boolean } = {},
): Promise<PushOutcome> {
  const { db } = context.strata;
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      let accepted = 0;
      let retryLater = 0;
      const conflicts: (StreamRef & { currentVersion: number })[] = [];
      const answers = new Map<string, AggregateAnswers>();
      const answeredScopes: AnsweredScopes[] = [];
      const answersOf = (stream: StreamRef) => {
        const key = streamKey(stream);
        const found = answers.get(key);
        if (found !== undefined) return found;
        const created: AggregateAnswers = { stream, accepted: [], rejections: new Map() };
        answers.set(key, created);
        return created;
      };
      const conflicted: { commitId: string; stream: StreamRef; currentVersion: number }[] = [];
      const acceptedCommits = new Map<string, CommandCommit>();
      for (const [index, result] of response.results.entries()) {
        const commit = commits[index];
        if (commit === undefined || commit.commitId !== result.commitId) continue;
        const { aggregateType, aggregateId } = commit.command;
        const stream = { aggregateType, aggregateId };
        if (result.status === 'accepted') {
          answersOf(stream).accepted.push(result);
          acceptedCommits.set(commit.commitId, commit);
          if (result.scopes !== undefined) answeredScopes.push({ stream, scopes: result.scopes });
          accepted++;
        } else if (result.code === 'VERSION_CONFLICT') {
          conflicted.push({
            commitId: commit.commitId,
            stream,
            currentVersion: result.currentVersion,
          });
        } else if (TRANSIENT_CODES.has(result.code)) {
          retryLater++;
        } else {
          answersOf(stream).rejections.set(commit.commitId, {
            code: result.code,
            message: result.message,
          });
        }
      }

      // Scoped: an aggregate kept only until its commands are answered (it left the held
      // scopes) gets no events upstream, so its conflict can never be rebased away. The command
      // ends visibly, not in a loop.
      const leaving = scoped
        ? await leavingOnes(
            context,
            conflicted.map((conflict) => conflict.stream),
          )
        : new Set<string>();
      for (const { commitId, stream, currentVersion } of conflicted) {
        if (leaving.has(streamKey(stream))) {
          answersOf(stream).rejections.set(commitId, {
            code: 'FORBIDDEN',
            message: UNSEEN_CONFLICT_REASON,
          });
        } else {
          conflicts.push({ ...stream, currentVersion });
        }
      }

      const stillPending = await stillPendingCommands(context, acceptedCommits);
      const predicted = await predictedEvents(context, stillPending, acceptedCommits);
      const done: number[] = [];
      const rebases: {
        answers: AggregateAnswers;
        upstream: UpstreamEvent[];
        superseded: Set<string>;
      }[] = [];
      for (const answer of answers.values()) {
        const mine = answer.accepted.flatMap(({ commitId, events }) => {
          const command = stillPending.get(commitId);
          return command === undefined ? [] : [{ command, events }];
        });
        done.push(...mine.map(({ command }) => command.seq as number));
        if (mine.every(({ command, events }) => isPrediction(command, events, predicted))) {
          // Deleting the command rows below confirms their events (`pendingIdsAmong`): the
          // rows are not rewritten (issue 16: that was most of the time an answer took).
          if (answer.rejections.size > 0) {
            rebases.push({ answers: answer, upstream: [], superseded: new Set() });
          }
        } else {
          rebases.push({
            answers: answer,
            upstream: mine.flatMap(({ events }) => events),
            // The predictions go: the server's events take their place.
            superseded: new Set(mine.flatMap(({ command }) => command.eventIds)),
          });
        }
      }
      // The accepted commands go first: a rebase of the same aggregate builds on the confirmed
      // version, and re-runs only the commands still pending.
      await deleteRows(db.commands, done);

      const rejected: RejectedCommandRow[] = [];
      for (const { answers: answer, upstream, superseded } of rebases) {
        const outcome = await rebaseAggregate(context, answer.stream, upstream, {
          rejections: answer.rejections,
          contiguousOnly: true,
          superseded,
        });
        rejected.push(...outcome.rejected);
        if (outcome.leftOut > 0) {
          // Someone wrote between our confirmed version and the server's answer: only upstream
          // brings those events (ours follow them and come back with our command's id).
          const last = upstream.at(-1) as UpstreamEvent;
          conflicts.push({ ...answer.stream, currentVersion: last.version });
        }
      }
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      await reproject(
        context,
        rebases.map(({ answers: answer }) => answer.stream),
        transaction,
      );
      if (scoped) {
        await applyAnsweredScopes(context, answeredScopes);
        // Also what left the scopes while these commands were pending can go now.
        await sweepLeaving(context, transaction);
      }
      await db.syncState.put({ key: LAST_SYNCED_AT_KEY, value: context.clock().toISOString() });
      return { accepted, conflicts, rejected, retryLater };
    }),
  );
}

/**
 * Why a command on an aggregate that left the device's scopes is rejected when the server
 * answers it with a version conflict.
 */
export const UNSEEN_CONFLICT_REASON =
  'The aggregate is no longer in a scope this device holds and changed on the server since: the command cannot be rebased on changes this device does not receive';

/** Which of `streams` (by stream key) are marked `LEAVING` and held by no scope. */
async function leavingOnes(
  context: SyncContext,
  streams: readonly StreamRef[],
): Promise<Set<string>> {
  const memberships = await membershipsOf(context.strata.db, streams);
  return new Set(
    [...memberships]
      .filter(([, membership]) => membership.leaving && membership.scopes.length === 0)
      .map(([key]) => key),
  );
}

/**
 * The command rows of these accepted commits that are still pending, by command id, inside the
 * caller's transaction. Commits `collectCommits` made are read by `seq`, one primary-key range
 * (a batch is a run of seqs, the rows it skipped included); others by command id (`rowsWhere`).
 */
async function stillPendingCommands(
  context: SyncContext,
  commits: ReadonlyMap<string, CommandCommit>,
): Promise<Map<string, PendingCommandRow>> {
  const { db } = context.strata;
  if (commits.size === 0) return new Map();
  const seqs = [...commits.values()].map((commit) => collected.get(commit)?.seq);
  const rows = seqs.every((seq) => seq !== undefined)
    ? await db.commands
        .where(':id')
        .between(Math.min(...seqs), Math.max(...seqs), true, true)
        .toArray()
    : await rowsWhere(db.commands, 'commandId', [...commits.keys()]);
  // Command ids are unique: a row in the range with one of them is that commit's command.
  return new Map(
    rows.filter((row) => commits.has(row.commandId)).map((row) => [row.commandId, row]),
  );
}

/**
 * The event rows of these pending commands, by id, inside the caller's transaction. A command
 * that still lists exactly the events `collectCommits` read for it (all there and pending then)
 * reuses those rows (issue 16: the second read cost as much as the first): its event rows
 * change only with its list (a rebase re-runs it with new event ids, a drop deletes the
 * command too), or become confirmed in place when upstream brings part of them back, and a
 * command whose prediction the server stored confirms them all the same. The others are read.
 */
async function predictedEvents(
  context: SyncContext,
  commands: ReadonlyMap<string, PendingCommandRow>,
  commits: ReadonlyMap<string, CommandCommit>,
): Promise<Map<string, EventRow>> {
  const known = new Map<string, EventRow>();
  const unread: PendingCommandRow[] = [];
  for (const command of commands.values()) {
    const commit = commits.get(command.commandId);
    const read = commit === undefined ? undefined : collected.get(commit);
    if (read?.complete === true && sameIds(read.eventIds, command.eventIds)) {
      for (const event of read.rows) known.set(event.id, event);
    } else {
      unread.push(command);
    }
  }
  if (unread.length === 0) return known;
  for (const [id, event] of await eventsOfCommands(context.strata.db, unread)) known.set(id, event);
  return known;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}

/** True when the server stored exactly the events this device predicted for the command. */
function isPrediction(
  command: PendingCommandRow,
  events: readonly UpstreamEvent[],
  predicted: ReadonlyMap<string, EventRow>,
): boolean {
  return (
    command.eventIds.length === events.length &&
    events.every((event, index) => {
      const row = predicted.get(event.id);
      return (
        command.eventIds[index] === event.id &&
        row?.pending === 1 &&
        row.version === event.version &&
        row.aggregateType === event.aggregateType &&
        row.aggregateId === event.aggregateId
      );
    })
  );
}
