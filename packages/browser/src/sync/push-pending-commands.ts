import {
  type Commit,
  envelopeOf,
  type PushResponse,
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
import { LAST_SYNCED_AT_KEY } from './apply-upstream.ts';
import { dropConfirmedCommands, eventsOfCommands } from './pending-commands.ts';
import { type Rejection, rebaseAggregate } from './rebase.ts';
import { reproject } from './reproject.ts';
import type { SyncContext } from './sync-context.ts';

/** Codes after which the same commit may succeed later: the server could not decide now. */
const TRANSIENT_CODES = new Set(['UNAVAILABLE', 'STORAGE_FAILED', 'INTERNAL']);

/**
 * The oldest pending commands as commits, in execution order, up to `maxEvents` events (at
 * least one commit, however large: the server answers an oversized one with a typed rejection).
 */
export async function collectCommits(
  context: SyncContext,
  maxEvents: number,
  maxCommits: number,
): Promise<Commit[]> {
  const { db } = context.strata;
  return withStorageErrors(() =>
    db.transaction('r', [db.commands, db.events], async () => {
      const commits: Commit[] = [];
      let events = 0;
      const rows: PendingCommandRow[] = await db.commands
        .orderBy('seq')
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
        commits.push({
          commitId: row.commandId,
          // Stored data and metadata are the JSON the command produced.
          events: pending.map(envelopeOf) as Commit['events'],
        });
        events += pending.length;
      }
      return commits;
    }),
  );
}

/** What the server's answer to a push changed locally. */
export interface PushOutcome {
  readonly accepted: number;
  /** Aggregates the server is ahead on: their events must come upstream before a rebase. */
  readonly conflicts: readonly (StreamRef & { readonly currentVersion: number })[];
  /** Commands the server refused for good, moved to the rejected list (with those a rebase refused). */
  readonly rejected: readonly RejectedCommandRow[];
  /** Commits the server could not decide now. */
  readonly retryLater: number;
}

/**
 * Applies the server's per-commit answers in one transaction: accepted events become confirmed
 * with their positions and their commands stop pending; a commit refused for good moves its
 * command to the rejected list and rebases its aggregate (later commands re-run without it).
 */
export async function applyPushResults(
  context: SyncContext,
  commits: readonly Commit[],
  response: PushResponse,
): Promise<PushOutcome> {
  const { db } = context.strata;
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      let accepted = 0;
      let retryLater = 0;
      const conflicts: (StreamRef & { currentVersion: number })[] = [];
      const refused = new Map<string, { stream: StreamRef; rejections: Map<string, Rejection> }>();
      const confirmedIds: string[] = [];
      for (const [index, result] of response.results.entries()) {
        const commit = commits[index];
        const first = commit?.events[0];
        if (commit === undefined || first === undefined || commit.commitId !== result.commitId) {
          continue;
        }
        const stream = { aggregateType: first.aggregateType, aggregateId: first.aggregateId };
        if (result.status === 'accepted') {
          const rows = await db.events
            .where('id')
            .anyOf(commit.events.map((event) => event.id))
            .toArray();
          const positions = new Map(commit.events.map((e, i) => [e.id, result.positions[i]]));
          for (const row of rows) {
            if (row.pending === 0) continue;
            await db.events.update(row.position, {
              pending: 0,
              serverPosition: positions.get(row.id) as number,
            });
            confirmedIds.push(row.id);
          }
          accepted++;
        } else if (result.code === 'VERSION_CONFLICT') {
          conflicts.push({ ...stream, currentVersion: result.currentVersion });
        } else if (TRANSIENT_CODES.has(result.code)) {
          retryLater++;
        } else {
          const key = streamKey(stream);
          const entry = refused.get(key) ?? { stream, rejections: new Map() };
          entry.rejections.set(commit.commitId, { code: result.code, message: result.message });
          refused.set(key, entry);
        }
      }
      await dropConfirmedCommands(db, confirmedIds);

      const rejected: RejectedCommandRow[] = [];
      for (const { stream, rejections } of refused.values()) {
        rejected.push(...(await rebaseAggregate(context, stream, [], rejections)).rejected);
      }
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      await reproject(
        context,
        [...refused.values()].map((entry) => entry.stream),
        transaction,
      );
      await db.syncState.put({ key: LAST_SYNCED_AT_KEY, value: context.clock().toISOString() });
      return { accepted, conflicts, rejected, retryLater };
    }),
  );
}
