import type {
  AnyAggregateDefinition,
  CommandInput,
  CommandMetadata,
  CommandName,
  EventOf,
  StateOf,
} from '../aggregates/aggregate-definition.ts';
import { receives } from '../aggregates/aggregate-scope.ts';
import type { CommandPrincipal } from '../aggregates/command-principal.ts';
import { isStrataError } from '../errors/errors.ts';
import type { EventStore } from '../event-store/event-store.ts';
import { type ExpectedVersion, NO_STREAM } from '../event-store/expected-version.ts';
import { assertExpectedVersion } from '../event-store/expected-version-check.ts';
import { type StreamRef, streamKey } from '../event-store/stream-ref.ts';
import type { EventMetadata, StoredEvent } from '../events/event.ts';
import { newEventOf } from '../events/new-event-of.ts';
import { newKsuid } from '../ids/ksuid.ts';
import type { InlineProjection } from '../projections/inline-projection.ts';
import type { AsyncReactor } from '../reactors/async-reactor.ts';
import type { SyncReactor } from '../reactors/sync-reactor.ts';
import { dueSnapshot } from '../snapshots/due-snapshot.ts';
import { type BackoffOptions, backoffDelay } from '../timing/backoff.ts';
import { type LoadedAggregate, loadAggregate } from './load-aggregate.ts';
import { prepareCommand } from './prepare-command.ts';

/** Options of `createCommandHandler`; defaults are applied in one place, below. */
export interface CommandHandlerOptions<TTransaction> {
  readonly store: EventStore<TTransaction>;
  /** Read models updated in the append's transaction. */
  readonly projections?: readonly InlineProjection<TTransaction>[];
  /** Run in the append's transaction after projections; a throw vetoes the append. */
  readonly syncReactors?: readonly SyncReactor<TTransaction>[];
  /** Run after commit, in the background. */
  readonly asyncReactors?: readonly AsyncReactor[];
  /** Metadata written into every event (e.g. `clientId`); per-command metadata wins. */
  readonly metadata?: EventMetadata;
  /**
   * Who runs commands unless a call names someone else: the signed-in user in the browser.
   * `decide` and each command's `allow` rule see it. Defaults to nobody.
   */
  readonly principal?: CommandPrincipal;
  /** Re-load and re-decide this many times on a version conflict. Defaults to 0. */
  readonly conflictRetries?: number;
  /** Attempts per async reactor and event before `onError`. Defaults to 3. */
  readonly asyncReactorAttempts?: number;
  /**
   * Waits between an async reactor's attempts on one event. Defaults to 10 ms doubling without
   * jitter (10, 20, 40 ms, …), capped at 30 s; given fields override those defaults.
   */
  readonly asyncReactorBackoff?: BackoffOptions;
  /**
   * Keep the state each command leaves, for up to this many aggregates, and decide the next
   * command on an aggregate without loading it. Safe with any store: the append names the tip it
   * expects (`expectedVersion` and `expectedLastEventId`), so a stale entry (another tab, a sync
   * rebase) costs one reload, never a wrong decision. States are shared: treat them as immutable.
   * Defaults to 0 (off).
   */
  readonly stateCacheSize?: number;
  /**
   * Which aggregates' states may be kept (`stateCacheSize`); e.g. not those whose data can be
   * forgotten under the cache (crypto-shredding). Defaults to all.
   */
  readonly cachesState?: (stream: StreamRef) => boolean;
  /**
   * A refusal or an empty decision taken on a cached state is decided again on the stored state:
   * the append's version check, which catches a stale cached state, never runs for them. For a
   * store with writers the handler does not see (a server's other instances, its batched
   * decisions). Defaults to false.
   */
  readonly recheckCachedRefusals?: boolean;
  /** Events read per page while loading. Defaults to 1000. */
  readonly readBatchSize?: number;
  /** Time source for `occurredAt`, `takenAt` and `context.now`. Defaults to the system clock. */
  readonly clock?: () => Date;
  /** Id source for events and commands. Defaults to KSUIDs. */
  readonly newId?: () => string;
  /**
   * Called inside the append's transaction with what was executed, after projections and sync
   * reactors: the browser runtime writes its outbox (pending commands) here.
   */
  readonly recordCommand?: (
    command: ExecutedCommand,
    transaction: TTransaction,
  ) => void | Promise<void>;
  /** Failures that cannot reach a caller (async reactors). Defaults to console.error. */
  readonly onError?: (error: unknown, source: string) => void;
}

/** A command as it was executed: enough to run it again (e.g. to rebase after a conflict). */
export interface ExecutedCommand extends StreamRef {
  readonly command: string;
  /** The input as the caller gave it, before parsing: re-running validates it again. */
  readonly input: unknown;
  readonly metadata: CommandMetadata;
  readonly events: readonly StoredEvent[];
  /** The aggregate's state and version after the events. */
  readonly state: unknown;
  readonly version: number;
}

/** Options of one `execute` call. */
export interface ExecuteOptions {
  /**
   * Fail with `VERSION_CONFLICT` unless the aggregate is at this version before the command.
   * Defaults to the loaded version (optimistic concurrency), retried per `conflictRetries`.
   */
  readonly expectedVersion?: ExpectedVersion;
  /** `commandId`, `correlationId`, `causationId`, `userId`, `clientId` and app keys. */
  readonly metadata?: EventMetadata;
  /** Overrides the handler's `conflictRetries` for this call. */
  readonly conflictRetries?: number;
  /** Who runs this command (the server: from the verified token); overrides the handler's. */
  readonly principal?: CommandPrincipal;
  /** The decision's time; defaults to the handler's clock. */
  readonly now?: Date;
}

/** What a command did. */
export interface ExecuteResult<TAggregate extends AnyAggregateDefinition> {
  /** The stored events, in order; empty when `decide` decided nothing. */
  readonly events: readonly (EventOf<TAggregate> & StoredEvent)[];
  readonly state: StateOf<TAggregate>;
  readonly version: number;
}

/** Runs commands against an event store. */
export interface CommandHandler {
  /**
   * Validates the input, loads the aggregate, decides, and appends the events with the
   * expected version, running inline projections and sync reactors in the append's transaction.
   * Throws `VALIDATION_FAILED`, `UNKNOWN_COMMAND`, `UNKNOWN_EVENT_TYPE`, `VERSION_CONFLICT` or
   * the domain error `decide` threw; the store is unchanged when it throws.
   */
  execute<TAggregate extends AnyAggregateDefinition, TName extends CommandName<TAggregate>>(
    aggregate: TAggregate,
    aggregateId: string,
    command: TName,
    input: CommandInput<TAggregate, TName>,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult<TAggregate>>;
  /** The aggregate's current state and version (initial state and 0 when it has no events). */
  load<TAggregate extends AnyAggregateDefinition>(
    aggregate: TAggregate,
    aggregateId: string,
  ): Promise<LoadedAggregate<StateOf<TAggregate>>>;
  /** Resolves once every queued async reactor has run. */
  whenIdle(): Promise<void>;
  /**
   * Drops the aggregate's cached state: its events were stored past this handler (the server
   * stores a push's decisions together), and a command decided on the cached state would be
   * refused, or decided, on a state that is no longer the aggregate's.
   */
  forgetState(stream: StreamRef): void;
}

/**
 * Creates a command handler over a store.
 *
 * @example
 * const app = createCommandHandler({ store: createInMemoryEventStore() });
 * const { state, version } = await app.execute(Todo, 'todo-1', 'add', { title: 'Milk' });
 */
export function createCommandHandler<TTransaction>(
  options: CommandHandlerOptions<TTransaction>,
): CommandHandler {
  const store = options.store;
  const projections = options.projections ?? [];
  const syncReactors = options.syncReactors ?? [];
  const asyncReactors = options.asyncReactors ?? [];
  const conflictRetries = options.conflictRetries ?? 0;
  const asyncAttempts = options.asyncReactorAttempts ?? 3;
  const asyncBackoff: BackoffOptions = {
    initialDelayMs: 10,
    jitter: 'none',
    ...options.asyncReactorBackoff,
  };
  const readBatchSize = options.readBatchSize ?? 1000;
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? (() => newKsuid());
  const onError =
    options.onError ??
    ((error: unknown, source: string) => console.error(`[strata] ${source}`, error));
  let background: Promise<void> = Promise.resolve();
  const stateCacheSize = options.stateCacheSize ?? 0;
  // Most recently used last: Map keeps insertion order, so the first key is the one to evict.
  const states = new Map<string, LoadedAggregate<unknown>>();
  const remember = (stream: StreamRef, key: string, loaded: LoadedAggregate<unknown>) => {
    if (stateCacheSize === 0 || options.cachesState?.(stream) === false) return;
    states.delete(key);
    states.set(key, loaded);
    if (states.size > stateCacheSize) states.delete(states.keys().next().value as string);
  };

  const load = <TAggregate extends AnyAggregateDefinition>(aggregate: TAggregate, id: string) =>
    loadAggregate(store as EventStore<never>, aggregate, id, { batchSize: readBatchSize });

  async function runInlineHandlers(events: readonly StoredEvent[], transaction: TTransaction) {
    for (const event of events) {
      for (const projection of projections) {
        if (receives(projection, event)) await projection.apply(event, transaction);
      }
      for (const reactor of syncReactors) {
        if (receives(reactor, event)) await reactor.react(event, transaction);
      }
    }
  }

  async function execute<TAggregate extends AnyAggregateDefinition>(
    aggregate: TAggregate,
    aggregateId: string,
    commandName: string,
    input: unknown,
    executeOptions: ExecuteOptions = {},
  ): Promise<ExecuteResult<TAggregate>> {
    const prepared = prepareCommand(aggregate, commandName, input);
    const metadata = commandMetadata(executeOptions.metadata);
    const stream: StreamRef = { aggregateType: aggregate.type, aggregateId };
    let retriesLeft = executeOptions.conflictRetries ?? conflictRetries;
    const key = streamKey(stream);
    const { expectedVersion } = executeOptions;
    // A caller's explicit expected version is checked against the store, not a cached state.
    let cached = expectedVersion === undefined ? states.get(key) : undefined;

    for (;;) {
      const loaded = cached ?? (await load(aggregate, aggregateId));
      if (expectedVersion !== undefined)
        assertExpectedVersion(stream, expectedVersion, loaded.version);
      const now = executeOptions.now ?? clock();
      const recheck = cached !== undefined && options.recheckCachedRefusals === true;
      let decision: ReturnType<typeof prepared.decide> | undefined;
      try {
        decision = prepared.decide({
          aggregateId,
          state: loaded.state,
          version: loaded.version,
          now,
          metadata,
          newId,
          principal: executeOptions.principal ?? options.principal,
        });
      } catch (error) {
        if (!recheck) throw error;
        decision = undefined;
      }
      // A refusal or an empty decision on a cached state is checked against the stored one:
      // another writer (an instance, a batch) may have moved the aggregate on, and the append's
      // version check that catches a stale decision never runs for them.
      if (recheck && (decision === undefined || decision.events.length === 0)) {
        states.delete(key);
        cached = undefined;
        continue;
      }
      const { events: envelopes, state } = decision as NonNullable<typeof decision>;
      if (envelopes.length === 0) {
        return { events: [], state: loaded.state as StateOf<TAggregate>, version: loaded.version };
      }

      try {
        const snapshot = dueSnapshot(aggregate, stream, loaded, envelopes.length, state, now);
        const result = await store.append(stream, envelopes.map(newEventOf), {
          expectedVersion: expectedVersion ?? (loaded.version === 0 ? NO_STREAM : loaded.version),
          ...(loaded.lastEventId === undefined ? {} : { expectedLastEventId: loaded.lastEventId }),
          ...(snapshot === undefined ? {} : { snapshot }),
          beforeCommit: async (events, transaction) => {
            await runInlineHandlers(events, transaction);
            const version = loaded.version + events.length;
            const executed = {
              ...stream,
              command: commandName,
              input,
              metadata,
              events,
              state,
              version,
            };
            await options.recordCommand?.(executed, transaction);
          },
        });
        scheduleAsyncReactors(result.events);
        const lastEventId = result.events.at(-1)?.id;
        remember(stream, key, {
          state,
          version: result.version,
          snapshotVersion: snapshot === undefined ? loaded.snapshotVersion : result.version,
          ...(lastEventId === undefined ? {} : { lastEventId }),
        });
        return {
          events: result.events as ExecuteResult<TAggregate>['events'],
          state: state as StateOf<TAggregate>,
          version: result.version,
        };
      } catch (error) {
        states.delete(key);
        if (cached !== undefined && isStrataError(error, 'VERSION_CONFLICT')) {
          // The cached state was stale: load it and decide again, without using up a retry.
          cached = undefined;
          continue;
        }
        const retry =
          isStrataError(error, 'VERSION_CONFLICT') &&
          expectedVersion === undefined &&
          retriesLeft-- > 0;
        if (!retry) throw error;
      }
    }
  }

  function commandMetadata(given: EventMetadata = {}): CommandMetadata {
    const commandId = given.commandId ?? newId();
    return {
      ...options.metadata,
      ...given,
      commandId,
      correlationId: given.correlationId ?? commandId,
      causationId: given.causationId ?? commandId,
    };
  }

  function scheduleAsyncReactors(events: readonly StoredEvent[]) {
    if (asyncReactors.length === 0) return;
    background = background.then(async () => {
      for (const event of events) {
        for (const reactor of asyncReactors) {
          if (receives(reactor, event)) await runWithRetries(reactor, event);
        }
      }
    });
  }

  async function runWithRetries(reactor: AsyncReactor, event: StoredEvent) {
    for (let attempt = 1; ; attempt++) {
      try {
        await reactor.react(event);
        return;
      } catch (error) {
        if (attempt >= asyncAttempts) {
          onError(error, `async reactor ${reactor.name} on event ${event.id}`);
          return;
        }
        // backoffDelay counts retries from 0: the wait after the first failed attempt is the initial one.
        const wait = backoffDelay(attempt - 1, asyncBackoff);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  return {
    execute: execute as CommandHandler['execute'],
    load,
    whenIdle: () => background,
    forgetState: (stream) => void states.delete(streamKey(stream)),
  };
}
