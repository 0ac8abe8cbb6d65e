// Authority `decide` and `verify` for the run of commands of one push, in a constant number of
// round trips on the happy path: every command id looked up in one statement, the aggregates
// loaded in two (load-aggregates.ts), the commands decided in memory one after the other (a
// command on an aggregate decided earlier in the batch sees that decision's state), and every
// decision stored with its command log in one transaction (`store.appendCommits`), with the
// snapshots their policies ask for. Anything off the happy path goes through the one-command
// path (`BatchDecider.one`), which has every rule: a command logged before, a refusal, a
// decision of nothing, a snapshot due on an aggregate whose data can be forgotten, a writer that
// raced the batch.
import {
  type AnyAggregateDefinition,
  type EventEnvelope,
  ForbiddenError,
  isStrataError,
  type LoadedAggregate,
  type NewEvent,
  NO_STREAM,
  type Snapshot,
  type StrataError,
  type StreamRef,
  streamKey,
} from '@strata/core';
import type { CommitAppend } from '../postgres/append-commits.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import { saveSnapshotRow } from '../postgres/snapshot-rows.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { commandDigest } from './command-digest.ts';
import {
  CommandAlreadyLoggedError,
  findLoggedCommands,
  type LoggedCommand,
  logCommands,
} from './command-log.ts';
import { type AggregateToLoad, type LoadedWithTip, loadAggregates } from './load-aggregates.ts';
import type { ServerCommand } from './server-command.ts';
import type { WriterIdentity } from './stamped-metadata.ts';

/** What became of one command of a batch. */
export type DecidedCommand =
  | { readonly status: 'stored'; readonly events: readonly PostgresStoredEvent[] }
  | {
      readonly status: 'refused';
      readonly error: StrataError;
      /** The aggregate's version at the command's turn, before the run's later commands. */
      readonly currentVersion: number;
    }
  /** A refused commit of the same aggregate came first and `BatchDecider.blocks`. */
  | { readonly status: 'blocked' };

/** One command of a batch, with the client's predicted events (authority `verify`). */
export interface BatchCommand {
  readonly command: ServerCommand;
  readonly predicted?: readonly EventEnvelope[];
}

/** A decision taken in memory, to be stored with the batch. */
export interface InMemoryDecision {
  readonly events: readonly NewEvent[];
  /** The aggregate after it. */
  readonly state: LoadedWithTip;
  readonly snapshot: Snapshot | undefined;
}

/** The decision on `loaded`, or undefined when the one-command path must take the command. */
export type InMemoryDecide = (
  entry: BatchCommand,
  aggregate: AnyAggregateDefinition,
  loaded: LoadedWithTip,
) => InMemoryDecision | undefined;

/** How a batch decides: `decide` or `verify` (decide-in-memory.ts, verify-in-memory.ts). */
export interface BatchDecider {
  readonly inMemory: InMemoryDecide;
  /** The one-command path, with every rule (`authority.decide`, `authority.verify`). */
  one(entry: BatchCommand): Promise<readonly PostgresStoredEvent[]>;
  /** A refused command blocks the later commands of its aggregate (verify, as events). */
  readonly blocks: boolean;
}

/** The authority's parts a batch decides with. */
export interface DecideBatchParts {
  readonly database: SqlDatabase;
  readonly store: PostgresEventStore;
  /** The command's aggregate, once the write rules allow it; throws the refusal. */
  readonly authorized: (command: ServerCommand) => Promise<AnyAggregateDefinition>;
  /** The aggregate's stored state and version. */
  readonly load: (
    aggregate: AnyAggregateDefinition,
    aggregateId: string,
  ) => Promise<LoadedAggregate<unknown>>;
  readonly decider: BatchDecider;
  /** The version a refusal reports (the push's `versionOf`), read at the command's turn. */
  readonly versionOf: (stream: StreamRef) => Promise<number>;
  /** Drops the command handler's cached state of a stream the batch stored past it. */
  readonly forgetState: (stream: StreamRef) => void;
  /**
   * False for aggregates whose data can be forgotten (encrypted): their snapshots are left to
   * `one`, which checks that the aggregate was not forgotten since its state was taken.
   */
  readonly keepsState: (stream: StreamRef) => boolean;
}

/** A command decided in memory, waiting to be stored with the others. */
interface Decided {
  readonly index: number;
  readonly command: ServerCommand;
  readonly loadedVersion: number;
  readonly events: readonly NewEvent[];
  readonly logged: LoggedCommand;
  readonly snapshot: Snapshot | undefined;
}

/**
 * Decides the commands in order, as `decider.one` one after the other would; one answer per
 * command. Errors that are not about a command (a lost database) are thrown. One difference: a
 * command that lost a race to another writer between its load and the batch's write is decided
 * again (`decider.one`) after the batch, so its events follow those of the batch's later
 * commands.
 *
 * @example
 * const answers = await decideBatch(parts, writer, commands.map((command) => ({ command })));
 */
export async function decideBatch(
  parts: DecideBatchParts,
  writer: WriterIdentity,
  entries: readonly BatchCommand[],
): Promise<DecidedCommand[]> {
  const { principal } = writer;
  const { decider } = parts;
  const answers: DecidedCommand[] = new Array(entries.length);
  const [logged, aggregates] = await Promise.all([
    findLoggedCommands(
      parts.database,
      principal.tenant,
      entries.map(({ command }) => command.commandId),
    ),
    Promise.all(entries.map(({ command }) => parts.authorized(command).catch(() => undefined))),
  ]);
  // Only commands that may take the fast path are loaded; the others go through decider.one.
  const fast = (index: number) => {
    const aggregate = aggregates[index];
    const { command } = entries[index] as BatchCommand;
    return aggregate !== undefined && !logged.has(command.commandId) ? aggregate : undefined;
  };
  const loads = await preload(
    parts.store,
    entries.flatMap(({ command }, index) => {
      const aggregate = fast(index);
      return aggregate === undefined ? [] : [{ aggregate, aggregateId: command.aggregateId }];
    }),
  );
  // States after the batch's decisions so far; a stream written by decider.one is loaded again.
  const states = new Map<string, LoadedWithTip>();
  // Aggregates with a refused command, when refusals block (verify).
  const refused = new Set<string>();
  const seenIds = new Set<string>();
  let batch: Decided[] = [];

  const one = async (index: number) => {
    const entry = entries[index] as BatchCommand;
    const key = streamKey(entry.command);
    if (refused.has(key)) {
      answers[index] = { status: 'blocked' };
      return;
    }
    const answer = await settled(decider.one(entry), () => parts.versionOf(entry.command));
    answers[index] = answer;
    if (answer.status === 'refused' && decider.blocks) refused.add(key);
    states.delete(key);
    loads.delete(key);
  };

  const store = async () => {
    const stored = batch;
    batch = [];
    if (stored.length === 0) return;
    let raced: Decided[];
    try {
      raced = await storeDecided(parts, principal.tenant, stored, answers);
    } finally {
      // Also when the answer was lost: the commit may have happened.
      for (const decided of stored) parts.forgetState(decided.command);
    }
    for (const decided of raced) {
      states.delete(streamKey(decided.command));
      loads.delete(streamKey(decided.command));
    }
    for (const decided of raced) await one(decided.index);
  };

  for (const [index, entry] of entries.entries()) {
    const { command } = entry;
    const aggregate = fast(index);
    const key = streamKey(command);
    if (refused.has(key)) {
      answers[index] = { status: 'blocked' };
      continue;
    }
    if (seenIds.has(command.commandId)) {
      // The same id twice in a push: the one-command path answers from the first's log.
      await store();
      await one(index);
      continue;
    }
    seenIds.add(command.commandId);
    const loaded =
      aggregate === undefined
        ? undefined
        : (states.get(key) ??
          loads.get(key) ??
          (await loadable(parts.load(aggregate, command.aggregateId))));
    const decision =
      aggregate === undefined || loaded === undefined
        ? undefined
        : decider.inMemory(entry, aggregate, loaded);
    if (
      decision === undefined ||
      loaded === undefined ||
      (decision.snapshot !== undefined && !parts.keepsState(command))
    ) {
      // Stored in order: what the batch holds first, then this command on its own.
      await store();
      await one(index);
      continue;
    }
    states.set(key, decision.state);
    batch.push({
      index,
      command,
      loadedVersion: loaded.version,
      events: decision.events,
      snapshot: decision.snapshot,
      logged: {
        aggregateType: command.aggregateType,
        aggregateId: command.aggregateId,
        firstVersion: loaded.version + 1,
        count: decision.events.length,
        userId: principal.subject,
        digest: await commandDigest(command.name, command.input),
      },
    });
  }
  await store();
  return answers;
}

/**
 * Stores the decided commands with their command logs in one transaction; answers those stored
 * and returns those that did not fit (another writer got there first, or a hook refused one):
 * they are decided again, in order. A command another request logged meanwhile rolls everything
 * back: then all of them go again.
 */
async function storeDecided(
  parts: DecideBatchParts,
  tenant: string,
  decided: readonly Decided[],
  answers: DecidedCommand[],
): Promise<Decided[]> {
  const logs = new Map(decided.map((entry) => [entry.command.commandId, entry.logged]));
  try {
    const outcomes = await parts.store.appendCommits(
      decided.map(
        ({ command, loadedVersion, events }): CommitAppend => ({
          stream: { aggregateType: command.aggregateType, aggregateId: command.aggregateId },
          events,
          expectedVersion: loadedVersion === 0 ? NO_STREAM : loadedVersion,
        }),
      ),
      {
        // The logs and snapshots of the commands whose events this transaction stores (one by
        // one, if a hook refused and the commits went again on their own).
        alsoInside: async (events, { transaction }) => {
          const ids = new Set(events.map((event) => event.metadata.commandId));
          try {
            await logCommands(
              transaction,
              tenant,
              new Map([...logs].filter(([commandId]) => ids.has(commandId))),
            );
          } catch (error) {
            // Another request decided one of them meanwhile: a refusal of this append (typed,
            // so a transaction shared with other pushes of the tenant sends each on its own
            // again and only this command fails), answered by the one-command path.
            if (error instanceof CommandAlreadyLoggedError) {
              throw new ForbiddenError(`Command id ${error.commandId} is already used`);
            }
            throw error;
          }
          for (const { command, snapshot } of decided) {
            if (snapshot !== undefined && ids.has(command.commandId)) {
              await saveSnapshotRow(transaction, tenant, snapshot);
            }
          }
        },
      },
    );
    const again: Decided[] = [];
    outcomes.forEach((outcome, position) => {
      const entry = decided[position] as Decided;
      if (outcome.kind === 'appended' && !outcome.alreadyStored) {
        answers[entry.index] = { status: 'stored', events: outcome.events };
      } else {
        again.push(entry);
      }
    });
    return again;
  } catch (error) {
    if (error instanceof CommandAlreadyLoggedError) return [...decided];
    throw error;
  }
}

/**
 * The aggregates loaded together (load-aggregates.ts); none when one of them cannot be loaded
 * for a reason of its own (each is then loaded on its own, and answered by decider.one if it
 * cannot be). A lost database is thrown.
 */
async function preload(
  store: PostgresEventStore,
  wanted: readonly AggregateToLoad[],
): Promise<Map<string, LoadedWithTip>> {
  return (await loadable(loadAggregates(store, wanted))) ?? new Map();
}

/**
 * A loaded aggregate, or undefined when it cannot be loaded for a reason of its own (decider.one
 * answers the command with it); a lost database is thrown.
 */
async function loadable<T>(loading: Promise<T>): Promise<T | undefined> {
  try {
    return await loading;
  } catch (error) {
    if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
    return undefined;
  }
}

/**
 * A command's answer, with the version a refusal reports (`versionOf`, read now: before the
 * run's later commands are stored). A lost database is the server's problem, not the
 * command's: thrown.
 */
async function settled(
  decision: Promise<readonly PostgresStoredEvent[]>,
  versionOf: () => Promise<number>,
): Promise<DecidedCommand> {
  try {
    return { status: 'stored', events: await decision };
  } catch (error) {
    if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
    const currentVersion = isStrataError(error, 'VERSION_CONFLICT')
      ? error.actualVersion
      : await versionOf();
    return { status: 'refused', error: error as StrataError, currentVersion };
  }
}
