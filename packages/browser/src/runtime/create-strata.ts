import {
  type AnyAggregateDefinition,
  type AsyncReactor,
  type CommandHandler,
  type CommandMetadata,
  type CommandPrincipal,
  createCommandHandler,
  type EventOf,
  type ExecutedCommand,
  type ExecuteOptions,
  type ExecuteResult,
  type InlineProjection,
  InternalError,
  type LoadedAggregate,
  loadAggregate,
  newKsuid,
  type StateOf,
  type StoredEvent,
  type SyncReactor,
  streamKey,
  ValidationFailedError,
} from '@strata/core';
import { liveQuery, type ObservabilitySet } from 'dexie';
import { CLIENT_ID_KEY } from '../database/database-kept.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import {
  openStrataDatabase,
  type PendingCommandRow,
  type StrataDatabase,
  type StrataDatabaseOptions,
} from '../database/strata-database.ts';
import { createDexieEventStore, type DexieEventStore } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { AggregateHeldError, refusingHeld, upToHolds } from '../unreadable/held-aggregates.ts';
import { readingDefinitions } from '../unreadable/reading-definitions.ts';
import { releaseReadable } from '../unreadable/release-readable.ts';
import {
  type AggregateState,
  createLocalCommits,
  type LiveSubscribable,
  liveAggregateState,
  type RecentStates,
} from './live-state.ts';
import { loadAllAggregates } from './load-all.ts';
import {
  type RebuildOptions,
  type RebuildProgress,
  rebuildProjections,
} from './rebuild-projections.ts';

/** Options of `createStrata`; defaults are applied here, once. */
export interface StrataOptions extends StrataDatabaseOptions {
  /** Inline projections: they write the `tables` inside each command's transaction. */
  readonly projections?: readonly InlineProjection<StrataTransaction>[];
  readonly syncReactors?: readonly SyncReactor<StrataTransaction>[];
  readonly asyncReactors?: readonly AsyncReactor[];
  /** Re-read and re-decide this many times when another tab wrote first. Defaults to 3. */
  readonly conflictRetries?: number;
  /** Time source. Defaults to the system clock. */
  readonly clock?: () => Date;
  /**
   * The signed-in user, as the app names them: commands' `allow` rules see it before they
   * execute (a refusal is `FORBIDDEN`), and so do the re-runs of a sync rebase. The server
   * decides again with the principal of its token; this one only predicts. Undefined: nobody.
   */
  readonly principal?: CommandPrincipal;
  /** Failures that cannot reach a caller (async reactors). Defaults to console.error. */
  readonly onError?: (error: unknown, source: string) => void;
}

/** A local, offline-first strata runtime over IndexedDB. */
export interface Strata extends Pick<CommandHandler, 'execute' | 'load' | 'whenIdle'> {
  readonly db: StrataDatabase;
  readonly store: DexieEventStore;
  /** This device's id, made once and kept in IndexedDB; written into every event's metadata. */
  readonly clientId: string;
  /** The inline projections this runtime keeps, and the names of the tables they write. */
  readonly projections: readonly InlineProjection<StrataTransaction>[];
  readonly tables: readonly string[];
  /** The runtime's time source (`options.clock`, or the system clock). */
  readonly clock: () => Date;
  /** Who runs this runtime's commands (`options.principal`): a sync rebase re-runs them as them. */
  readonly principal: CommandPrincipal | undefined;
  /**
   * An aggregate's events (decoded, typed), from a version, up to a limit. A held aggregate's
   * (an event of it this app version cannot read: see `AggregateHeldError`) end before that event.
   */
  history<TAggregate extends AnyAggregateDefinition>(
    aggregate: TAggregate,
    aggregateId: string,
    options?: { readonly fromVersion?: number; readonly limit?: number },
  ): Promise<(EventOf<TAggregate> & StoredEvent)[]>;
  /** Every aggregate of a type, replayed to its state (a held one to its last readable event). */
  loadAll<TAggregate extends AnyAggregateDefinition>(
    aggregate: TAggregate,
  ): Promise<Map<string, LoadedAggregate<StateOf<TAggregate>>>>;
  /**
   * A live query: re-runs `query` whenever the tables it read change, in this tab or another.
   * Subscribe from any framework; `query` must only await Dexie operations.
   */
  live<T>(query: () => T | Promise<T>): LiveSubscribable<T>;
  /**
   * An aggregate's state and version, live. A held aggregate's are those of its last readable
   * event; commands on it (`execute`) are refused with `AggregateHeldError`.
   */
  liveState<TAggregate extends AnyAggregateDefinition>(
    aggregate: TAggregate,
    aggregateId: string,
  ): LiveSubscribable<AggregateState<StateOf<TAggregate>>>;
  /** The pending commands: executed here, not yet acknowledged by a server, in execution order. */
  pendingCommands(): Promise<PendingCommandRow[]>;
  /** Clears the projection tables and rebuilds them from the local log. */
  rebuildProjections(options?: RebuildOptions): Promise<RebuildProgress>;
  close(): void;
}

/**
 * Opens the local database and returns the runtime. State and projections come from IndexedDB;
 * nothing here touches the network.
 *
 * @example
 * const strata = await createStrata({
 *   name: 'todos',
 *   tables: { todos: 'id, status' },
 *   projections: [todoList],
 * });
 * await strata.execute(Todo, newKsuid(), 'add', { title: 'Buy milk' });
 * strata.live(() => strata.db.table('todos').toArray()).subscribe(render);
 */
export async function createStrata(options: StrataOptions): Promise<Strata> {
  const db = await openStrataDatabase(options);
  const store = createDexieEventStore(
    db,
    options.clock === undefined ? {} : { clock: options.clock },
  );
  const clientId = await ensureClientId(db);
  const tables = Object.keys(options.tables ?? {});
  const projections = options.projections ?? [];

  // The last few states this tab computed, so its own live queries need not load them again.
  // Keyed by event id: an aborted transaction leaves an entry no stream tip will ever match.
  const recentStates: RecentStates = new Map();
  const localCommits = createLocalCommits();
  const rememberState = ({ events, state, version }: ExecutedCommand) => {
    const last = events[events.length - 1];
    if (last === undefined) return;
    recentStates.set(last.id, { state, version });
    if (recentStates.size > 256) recentStates.delete(recentStates.keys().next().value as string);
  };

  // The command each stream is executing in this tab (one at a time, see `oneAtATime`), with
  // its full metadata: the handler's appends carry its pending command row, sent to IndexedDB
  // with the events instead of after them (issue 16).
  const executing = new Map<string, Omit<PendingCommandRow, 'eventIds' | 'executedAt'>>();
  const clock = options.clock ?? (() => new Date());
  const commandStore: DexieEventStore = {
    ...store,
    // A held aggregate (an event this app version cannot read) takes no command: its state is
    // not known here (held-aggregates.ts).
    readStream: refusingHeld(db, store).readStream,
    append: (stream, events, appendOptions) => {
      // The handler appends only for a command, and only strata.execute runs the handler.
      const command = executing.get(streamKey(stream));
      if (command === undefined) {
        throw new InternalError(`An append to ${streamKey(stream)} outside a command`);
      }
      const row: PendingCommandRow = {
        ...command,
        eventIds: events.map((event) => event.id),
        executedAt: clock().toISOString(),
      };
      return store.append(stream, events, {
        ...appendOptions,
        alsoAdd: { table: 'commands', row, refused: (cause) => commandRefused(row, cause) },
      });
    },
  };

  const handler = createCommandHandler<StrataTransaction>({
    store: commandStore,
    projections,
    syncReactors: options.syncReactors ?? [],
    asyncReactors: options.asyncReactors ?? [],
    metadata: { clientId },
    ...(options.principal === undefined ? {} : { principal: options.principal }),
    conflictRetries: options.conflictRetries ?? 3,
    // A tab's next command on an aggregate decides on the state its last one left; the append
    // checks the tip, so another tab's write or a sync rebase only costs a reload.
    stateCacheSize: 256,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    // The pending command row went to IndexedDB with the events (commandStore above).
    recordCommand: (command, transaction) => {
      rememberState(command);
      // This tab's live states get the command's state when it commits (execute, below), so
      // they need not read back what this transaction wrote.
      const { mutatedParts } = transaction.dexie.idbtrans as { mutatedParts?: ObservabilitySet };
      if (mutatedParts !== undefined) localCommits.markOwn(mutatedParts);
    },
  });

  // Commands on one aggregate from this tab run one after the other: each decides on the state
  // the previous one left, instead of racing it into a version conflict. Other tabs are
  // serialised by IndexedDB and handled by conflict retries.
  const queues = new Map<string, Promise<unknown>>();
  const oneAtATime = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const result = (queues.get(key) ?? Promise.resolve()).then(work);
    const tail = result.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return result;
  };

  // Reads of state see a held aggregate at its last readable event instead of an error.
  const load: CommandHandler['load'] = async (aggregate, aggregateId) => {
    try {
      return await handler.load(aggregate, aggregateId);
    } catch (error) {
      if (!(error instanceof AggregateHeldError)) throw error;
      return loadAggregate(upToHolds(db, store) as never, aggregate, aggregateId);
    }
  };
  // Events an older app version kept unreadable that this one reads are applied now, once
  // (release-readable.ts); the sync's aggregates are read too when it starts.
  await releaseReadable(db, projections, readingDefinitions([], projections), clock);

  return {
    db,
    store,
    clientId,
    projections,
    tables,
    clock,
    principal: options.principal,
    execute: ((aggregate, aggregateId, command, input, executeOptions: ExecuteOptions = {}) => {
      const key = streamKey({ aggregateType: aggregate.type, aggregateId });
      // The metadata the handler would make (its own defaults), made here to go in the row.
      const given = executeOptions.metadata ?? {};
      const commandId = given.commandId ?? newKsuid();
      const metadata: CommandMetadata = {
        clientId,
        ...given,
        commandId,
        correlationId: given.correlationId ?? commandId,
        causationId: given.causationId ?? commandId,
      };
      return oneAtATime(key, async () => {
        // The input's version goes with it (issue 17), past 1 only (absent is 1).
        const inputVersion = Object.hasOwn(aggregate.commands, command)
          ? (aggregate.commands[command]?.versions?.inputVersion ?? 1)
          : 1;
        executing.set(key, {
          commandId,
          aggregateType: aggregate.type,
          aggregateId,
          command,
          input,
          ...(inputVersion === 1 ? {} : { inputVersion }),
          metadata,
        });
        let result: ExecuteResult<AnyAggregateDefinition>;
        try {
          result = await handler.execute(aggregate, aggregateId, command as never, input as never, {
            ...executeOptions,
            metadata,
          });
        } finally {
          executing.delete(key);
        }
        // Committed: this tab's live states get the new state now, not after reading it back.
        const last = result.events.at(-1);
        if (last !== undefined) {
          localCommits.publish(key, {
            state: result.state,
            version: result.version,
            lastEventId: last.id,
            lastPosition: last.position,
          });
        }
        return result;
      });
    }) as CommandHandler['execute'],
    load,
    whenIdle: handler.whenIdle,
    async history(aggregate, aggregateId, historyOptions = {}) {
      // A held aggregate's history ends before its hold, as its state does.
      const events = await upToHolds(db, store).readStream(
        { aggregateType: aggregate.type, aggregateId },
        historyOptions,
      );
      return events.map((event) => aggregate.events.decode(event) as never);
    },
    loadAll: (aggregate) => loadAllAggregates(db, aggregate),
    live: (query) => liveQuery(query),
    liveState: (aggregate, aggregateId) =>
      liveAggregateState(db, aggregate, aggregateId, load, recentStates, localCommits),
    pendingCommands: () => withStorageErrors(() => db.commands.orderBy('seq').toArray()),
    rebuildProjections: (rebuildOptions) =>
      rebuildProjections(db, tables, projections, rebuildOptions),
    close: () => db.close(),
  };
}

async function ensureClientId(db: StrataDatabase): Promise<string> {
  return withStorageErrors(() =>
    db.transaction('rw', db.syncState, async () => {
      const existing = await db.syncState.get(CLIENT_ID_KEY);
      if (typeof existing?.value === 'string') return existing.value;
      const clientId = newKsuid();
      await db.syncState.put({ key: CLIENT_ID_KEY, value: clientId });
      return clientId;
    }),
  );
}

/** A refused pending command row: a reused commandId is VALIDATION_FAILED, else the cause. */
function commandRefused(row: PendingCommandRow, cause: unknown): unknown {
  if ((cause as { name?: unknown } | null)?.name !== 'ConstraintError') return cause;
  return new ValidationFailedError(`Command ${row.commandId} was already executed`, [
    { path: ['metadata', 'commandId'], message: 'must be unique per command' },
  ]);
}
