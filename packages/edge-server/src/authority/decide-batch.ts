// Authority `decide` for the run of commands of one push, in a constant number of round trips on
// the happy path: every command id looked up in one statement, the aggregates loaded at once,
// the commands decided in memory one after the other (a command on an aggregate decided earlier
// in the batch sees that decision's state), and every decision stored with its command log in
// one transaction (`store.appendCommits`), with the snapshots their policies ask for. Anything off
// the happy path goes through the single command path (`decideOne`), which has every rule: a
// command logged before, a refusal, a decision of nothing, a snapshot due on an aggregate whose
// data can be forgotten, a writer that raced the batch.
import {
  type AnyAggregateDefinition,
  dueSnapshot,
  type EventMetadata,
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
import { decideOnServer } from './decide-on-server.ts';
import { type AggregateToLoad, loadAggregates } from './load-aggregates.ts';
import type { ServerCommand } from './server-command.ts';
import type { WriterIdentity } from './stamped-metadata.ts';

/** What became of one command of a batch: its stored events, or the refusal to answer with. */
export type DecidedCommand =
  | { readonly ok: true; readonly events: readonly PostgresStoredEvent[] }
  | { readonly ok: false; readonly error: StrataError };

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
  /** The single command path, with every rule (`authority.decide`). */
  readonly decideOne: (command: ServerCommand) => Promise<readonly PostgresStoredEvent[]>;
  /** The metadata stamped on the command's events. */
  readonly metadataOf: (command: ServerCommand) => EventMetadata;
  readonly clock: () => Date;
  readonly newId: () => string;
  /**
   * False for aggregates whose data can be forgotten (encrypted): their snapshots are left to
   * `decideOne`, which checks that the aggregate was not forgotten since its state was taken.
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
 * Decides the commands in order, as `decideOne` one after the other would; one answer per
 * command. Errors that are not about a command (a lost database) are thrown. One difference: a
 * command that lost a race to another writer between its load and the batch's write is decided
 * again (`decideOne`) after the batch, so its events follow those of the batch's later commands.
 *
 * @example
 * const answers = await decideBatch(parts, writer, commands);
 */
export async function decideBatch(
  parts: DecideBatchParts,
  writer: WriterIdentity,
  commands: readonly ServerCommand[],
): Promise<DecidedCommand[]> {
  const { principal } = writer;
  const answers: DecidedCommand[] = new Array(commands.length);
  const [logged, aggregates] = await Promise.all([
    findLoggedCommands(
      parts.database,
      principal.tenant,
      commands.map((command) => command.commandId),
    ),
    Promise.all(commands.map((command) => parts.authorized(command).catch(() => undefined))),
  ]);
  // Only commands that may take the fast path are loaded; the others go through decideOne.
  const fast = (index: number) => {
    const aggregate = aggregates[index];
    const command = commands[index] as ServerCommand;
    return aggregate !== undefined && !logged.has(command.commandId) ? aggregate : undefined;
  };
  const loads = await preload(
    parts.store,
    commands.flatMap((command, index) => {
      const aggregate = fast(index);
      return aggregate === undefined ? [] : [{ aggregate, aggregateId: command.aggregateId }];
    }),
  );
  // States after the batch's decisions so far; a stream written by decideOne is loaded again.
  const states = new Map<string, LoadedAggregate<unknown>>();
  let batch: Decided[] = [];

  const one = async (index: number) => {
    const command = commands[index] as ServerCommand;
    answers[index] = await settled(parts.decideOne(command));
    states.delete(streamKey(command));
    loads.delete(streamKey(command));
  };

  const store = async () => {
    const stored = batch;
    batch = [];
    if (stored.length === 0) return;
    const raced = await storeDecided(parts, principal.tenant, stored, answers);
    for (const decided of raced) {
      states.delete(streamKey(decided.command));
      loads.delete(streamKey(decided.command));
    }
    for (const decided of raced) await one(decided.index);
  };

  for (const [index, command] of commands.entries()) {
    const aggregate = fast(index);
    const key = streamKey(command);
    const loaded =
      aggregate === undefined
        ? undefined
        : (states.get(key) ??
          loads.get(key) ??
          (await loadable(parts.load(aggregate, command.aggregateId))));
    const decision =
      aggregate === undefined || loaded === undefined
        ? undefined
        : decideInMemory(parts, writer, aggregate, command, loaded);
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
 * The command decided on `loaded`, or undefined when `decideOne` must take it: it was refused
 * (decideOne decides it again for the exact answer, a concurrent re-push included) or it
 * decided nothing (decideOne logs it on its own).
 */
function decideInMemory(
  parts: DecideBatchParts,
  writer: WriterIdentity,
  aggregate: AnyAggregateDefinition,
  command: ServerCommand,
  loaded: LoadedAggregate<unknown>,
):
  | { events: NewEvent[]; state: LoadedAggregate<unknown>; snapshot: Snapshot | undefined }
  | undefined {
  const now = parts.clock();
  try {
    const decision = decideOnServer(aggregate, command, loaded, writer, {
      metadata: parts.metadataOf(command),
      now,
      newId: parts.newId,
    });
    if (decision.events.length === 0) return undefined;
    const events = decision.events.map(
      ({ id, type, schemaVersion, occurredAt, data, metadata: stamped }) => ({
        id,
        type,
        schemaVersion,
        occurredAt,
        data,
        metadata: stamped,
      }),
    );
    const version = loaded.version + events.length;
    const lastEventId = events.at(-1)?.id;
    const stream = { aggregateType: command.aggregateType, aggregateId: command.aggregateId };
    const snapshot = dueSnapshot(aggregate, stream, loaded, events.length, decision.state, now);
    return {
      events,
      snapshot,
      state: {
        state: decision.state,
        version,
        snapshotVersion: snapshot === undefined ? loaded.snapshotVersion : version,
        ...(lastEventId === undefined ? {} : { lastEventId }),
      },
    };
  } catch {
    return undefined;
  }
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
          await logCommands(
            transaction,
            tenant,
            new Map([...logs].filter(([commandId]) => ids.has(commandId))),
          );
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
        answers[entry.index] = { ok: true, events: outcome.events };
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
 * for a reason of its own (each is then loaded on its own, and answered by decideOne if it
 * cannot be). A lost database is thrown.
 */
async function preload(
  store: PostgresEventStore,
  wanted: readonly AggregateToLoad[],
): Promise<Map<string, LoadedAggregate<unknown>>> {
  return (await loadable(loadAggregates(store, wanted))) ?? new Map();
}

/**
 * A loaded aggregate, or undefined when it cannot be loaded for a reason of its own (decideOne
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

/** A command's answer; a lost database is the server's problem, not the command's: thrown. */
async function settled(decision: Promise<readonly PostgresStoredEvent[]>): Promise<DecidedCommand> {
  try {
    return { ok: true, events: await decision };
  } catch (error) {
    if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
    return { ok: false, error: error as StrataError };
  }
}
