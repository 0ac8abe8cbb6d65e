// The server's side of authority: commands pushed by devices, or run by server code, are decided
// here with the shared aggregates on the server's own state, by the principal of the verified
// token. One command handler per tenant keeps recent states (a state cache) on top of the
// aggregates' snapshots, so a long history is not loaded on every command.
import {
  type AnyAggregateDefinition,
  type CommandHandler,
  createCommandHandler,
  type EventEnvelope,
  ForbiddenError,
  isStrataError,
  NO_STREAM,
  newEventOf,
  newKsuid,
  PredictionMismatchError,
  type StreamRef,
  UnknownCommandError,
  VersionConflictError,
} from '@strata/core';
import type { Principal } from '../app/auth.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { commandDigest } from './command-digest.ts';
import {
  CommandAlreadyLoggedError,
  findLoggedCommand,
  type LoggedCommand,
  logCommand,
} from './command-log.ts';
import { currentInput } from './current-input.ts';
import {
  type BatchCommand,
  type BatchDecider,
  type DecideBatchParts,
  type DecidedCommand,
  decideBatch,
} from './decide-batch.ts';
import { decideInMemory } from './decide-in-memory.ts';
import { decideOnServer } from './decide-on-server.ts';
import { increasingClock } from './increasing-clock.ts';
import { predictionTimeFits } from './prediction-time.ts';
import { samePrediction } from './same-prediction.ts';
import type { ServerCommand } from './server-command.ts';
import { commandPrincipal, stampedMetadata, type WriterIdentity } from './stamped-metadata.ts';
import { withTypedRefusals } from './typed-refusals.ts';
import { verifyInMemory } from './verify-in-memory.ts';

export type { ServerCommand };

/** Options of `createCommandAuthority`. */
export interface CommandAuthorityOptions {
  readonly database: SqlDatabase;
  readonly aggregates: ReadonlyMap<string, AnyAggregateDefinition>;
  /** The tenant's store, with the app's append hooks and encryption. */
  readonly storeFor: (principal: Principal) => PostgresEventStore;
  /** The app's write rule (`authorize.canWrite`), checked before the command's own `allow`. */
  readonly canWrite: (principal: Principal, stream: StreamRef) => boolean | Promise<boolean>;
  /** Aggregate states kept per tenant between commands. Defaults to 1000. */
  readonly stateCacheSize?: number;
  /** Tenants whose handlers (and state caches) are kept. Defaults to 100. */
  readonly tenantCacheSize?: number;
  /** The server's clock for `now`. Defaults to the system clock. */
  readonly clock?: () => Date;
  /** Ids of the events the server decides. Defaults to KSUIDs. */
  readonly newId?: () => string;
  /** Which aggregates' states the cache may keep (not those whose data can be forgotten). */
  readonly cachesState?: (stream: StreamRef) => boolean;
}

/** Options of `decideMany` and `verifyMany`. */
export interface BatchOptions {
  /** The version a refusal reports; defaults to the stored one. */
  readonly versionOf?: (stream: StreamRef) => Promise<number>;
}

/** Decides commands on the server; every method throws the typed error of a refusal. */
export interface CommandAuthority {
  /**
   * Authority `decide`: runs the command on the server's state and stores what it decides
   * (none when it decides nothing). Returns the stored events.
   */
  decide(writer: WriterIdentity, command: ServerCommand): Promise<readonly PostgresStoredEvent[]>;
  /**
   * Authority `decide` for several commands of one writer, in order, as `decide` one after the
   * other would (decide-batch.ts: a few round trips for all of them on the happy path); one
   * answer per command. A lost database is thrown.
   */
  decideMany(
    writer: WriterIdentity,
    commands: readonly ServerCommand[],
    options?: BatchOptions,
  ): Promise<DecidedCommand[]>;
  /**
   * Authority `verify` for several commands of one writer with their predictions, in order, as
   * `verify` one after the other would (a refused one blocks the later ones of its aggregate).
   */
  verifyMany(
    writer: WriterIdentity,
    entries: readonly BatchCommand[],
    options?: BatchOptions,
  ): Promise<DecidedCommand[]>;
  /**
   * Authority `verify`: decides the command again on the version the client decided on, at the
   * client's time, and stores the client's events only when they are the same.
   */
  verify(
    writer: WriterIdentity,
    command: ServerCommand,
    predicted: readonly EventEnvelope[],
  ): Promise<readonly PostgresStoredEvent[]>;
  /**
   * Drops the tenant's cached states, e.g. after an aggregate's key was deleted: a cached state
   * still holds what its events said before their data was forgotten.
   */
  forgetStates(tenant: string): void;
}

/**
 * @example
 * const authority = createCommandAuthority({ database, aggregates, storeFor, canWrite });
 * const events = await authority.decide({ principal, clientId }, { commandId, aggregateType: 'Cart', aggregateId, name: 'addItem', input });
 */
export function createCommandAuthority(options: CommandAuthorityOptions): CommandAuthority {
  const aggregates = new Map(
    [...options.aggregates].map(([type, aggregate]) => [type, withTypedRefusals(aggregate)]),
  );
  // Strictly increasing: a push's commands are decided within a millisecond, and their events
  // keep their order by time (increasing-clock.ts).
  const clock = increasingClock(options.clock ?? (() => new Date()));
  const newId = options.newId ?? (() => newKsuid());
  const handlers = new Map<string, CommandHandler>();
  const tenantCacheSize = options.tenantCacheSize ?? 100;

  // Most recently used last; the first is evicted, with its state cache.
  function handlerFor(principal: Principal): CommandHandler {
    const { tenant } = principal;
    let handler = handlers.get(tenant);
    if (handler === undefined) {
      handler = createCommandHandler({
        store: options.storeFor(principal),
        stateCacheSize: options.stateCacheSize ?? 1000,
        // Another device's write between load and append: load again and decide again.
        conflictRetries: 5,
        // Other instances and the batched decisions store past this handler's state cache.
        recheckCachedRefusals: true,
        clock,
        ...(options.newId === undefined ? {} : { newId: options.newId }),
        ...(options.cachesState === undefined ? {} : { cachesState: options.cachesState }),
        recordCommand: async (executed, transaction) =>
          logCommand(transaction, tenant, executed.metadata.commandId, {
            aggregateType: executed.aggregateType,
            aggregateId: executed.aggregateId,
            firstVersion: executed.events[0]?.version ?? executed.version + 1,
            count: executed.events.length,
            // The handler is the tenant's, shared by its users: the writer is the one stamped
            // on this command, not the user whose command created the handler.
            userId: executed.metadata.userId ?? principal.subject,
            digest: await commandDigest(executed.command, executed.input),
          }),
      });
    }
    handlers.delete(tenant);
    handlers.set(tenant, handler);
    if (handlers.size > tenantCacheSize) handlers.delete(handlers.keys().next().value as string);
    return handler;
  }

  async function authorized(principal: Principal, command: ServerCommand) {
    const aggregate = aggregates.get(command.aggregateType);
    if (aggregate === undefined) throw new UnknownCommandError(command.aggregateType, command.name);
    if (!(await options.canWrite(principal, command))) {
      throw new ForbiddenError(
        `Writing ${command.aggregateType}/${command.aggregateId} is not allowed`,
      );
    }
    return aggregate;
  }

  /** What an earlier decision of this command stored, if there was one. */
  async function earlier(principal: Principal, command: ServerCommand) {
    const logged = await findLoggedCommand(options.database, principal.tenant, command.commandId);
    return logged === undefined ? undefined : storedEvents(principal, command, logged);
  }

  async function storedEvents(principal: Principal, command: ServerCommand, logged: LoggedCommand) {
    // A command id is one command of one user: reused by someone else, for another aggregate or
    // another command, it answers nothing of what it stored (no reading through replays).
    const same =
      logged.aggregateType === command.aggregateType &&
      logged.aggregateId === command.aggregateId &&
      logged.userId === principal.subject &&
      logged.digest === (await commandDigest(command.name, command.input));
    if (!same) throw new ForbiddenError(`Command id ${command.commandId} is already used`);
    if (logged.count === 0) return [];
    const events = await options
      .storeFor(principal)
      .readStream(logged, { fromVersion: logged.firstVersion, limit: logged.count });
    return events as readonly PostgresStoredEvent[];
  }

  const metadataOf = (writer: WriterIdentity, command: ServerCommand) =>
    stampedMetadata({ ...command.metadata, commandId: command.commandId }, writer);

  /**
   * A refusal may come from a concurrent request of the same command (a device re-pushing while
   * its first push is still running): that one logged it first, and deciding again on its result
   * failed (`CommandAlreadyLoggedError`, a version conflict, or a rule such as "already exists").
   * Its stored events are then the answer; otherwise the refusal stands.
   */
  async function afterRefusal(principal: Principal, command: ServerCommand, error: unknown) {
    if (error instanceof CommandAlreadyLoggedError || isStrataError(error)) {
      // Errors of the lookup (a lost database, an id used by another) are the answer then.
      const stored = await earlier(principal, command);
      if (stored !== undefined) return stored;
    }
    throw error;
  }

  async function decide(
    writer: WriterIdentity,
    command: ServerCommand,
    aggregate: AnyAggregateDefinition,
  ) {
    const { principal } = writer;
    const result = await handlerFor(principal).execute(
      aggregate,
      command.aggregateId,
      command.name as never,
      command.input as never,
      { principal: commandPrincipal(principal), metadata: metadataOf(writer, command) },
    );
    if (result.events.length === 0) {
      await logCommand(options.database, principal.tenant, command.commandId, {
        aggregateType: command.aggregateType,
        aggregateId: command.aggregateId,
        firstVersion: result.version + 1,
        count: 0,
        userId: principal.subject,
        digest: await commandDigest(command.name, command.input),
      });
    }
    return result.events as readonly PostgresStoredEvent[];
  }

  async function verify(
    writer: WriterIdentity,
    command: ServerCommand,
    predicted: readonly EventEnvelope[],
    aggregate: AnyAggregateDefinition,
  ) {
    const { principal } = writer;
    const first = predicted[0];
    const loaded = await handlerFor(principal).load(aggregate, command.aggregateId);
    const decidedOn = first === undefined ? loaded.version : first.version - 1;
    if (loaded.version !== decidedOn) {
      throw new VersionConflictError(command, decidedOn, loaded.version);
    }
    const now = await verifiedTime(principal, command, first, loaded.version);
    const decision = decideOnServer(aggregate, command, loaded, writer, {
      metadata: metadataOf(writer, command),
      now,
      newId,
    });
    // The client's event ids are kept; ids `decide` mints for entities are the server's, so a
    // command that puts one in its data never verifies (use `decide` for those).
    const decided = decision.events.map((event, index) => ({
      ...event,
      id: predicted[index]?.id ?? event.id,
    }));
    const mismatch = samePrediction(decided, predicted, aggregate);
    if (mismatch !== undefined) throw new PredictionMismatchError(mismatch.index, mismatch.message);
    const logged = {
      aggregateType: command.aggregateType,
      aggregateId: command.aggregateId,
      firstVersion: loaded.version + 1,
      count: predicted.length,
      userId: principal.subject,
      digest: await commandDigest(command.name, command.input),
    };
    if (predicted.length === 0) {
      await logCommand(options.database, principal.tenant, command.commandId, logged);
      return [];
    }
    const result = await options.storeFor(principal).append(command, decided.map(newEventOf), {
      expectedVersion: loaded.version === 0 ? NO_STREAM : loaded.version,
      beforeCommit: (_events, transaction) =>
        logCommand(transaction, principal.tenant, command.commandId, logged),
    });
    return result.events as readonly PostgresStoredEvent[];
  }

  /** The prediction's time, when it may be used (prediction-time.ts); else the refusal. */
  async function verifiedTime(
    principal: Principal,
    command: ServerCommand,
    first: EventEnvelope | undefined,
    version: number,
  ) {
    const serverNow = clock();
    if (first === undefined) return serverNow;
    const claimed = new Date(first.occurredAt);
    const [last] =
      version === 0
        ? []
        : await options.storeFor(principal).readStream(command, { fromVersion: version, limit: 1 });
    if (!predictionTimeFits(claimed, serverNow, last?.occurredAt)) {
      throw new PredictionMismatchError(
        0,
        `The prediction's time ${first.occurredAt} is ahead of the server's clock or before the aggregate's last event`,
      );
    }
    return claimed;
  }

  /** Both modes: the rules, an earlier decision of the same command, else `run`. */
  async function once(
    writer: WriterIdentity,
    command: ServerCommand,
    run: (aggregate: AnyAggregateDefinition) => Promise<readonly PostgresStoredEvent[]>,
  ): Promise<readonly PostgresStoredEvent[]> {
    const aggregate = await authorized(writer.principal, command);
    const before = await earlier(writer.principal, command);
    if (before !== undefined) return before;
    try {
      return await run(aggregate);
    } catch (error) {
      return afterRefusal(writer.principal, command, error);
    }
  }

  // Input of an older version is upgraded first (current-input.ts): the rules, the command log
  // and the decision see the current version only.
  const decideOnce = async (writer: WriterIdentity, pushed: ServerCommand) => {
    const command = currentInput(aggregates, pushed);
    return once(writer, command, (aggregate) => decide(writer, command, aggregate));
  };
  const verifyOnce = async (
    writer: WriterIdentity,
    pushed: ServerCommand,
    predicted: readonly EventEnvelope[],
  ) => {
    const command = currentInput(aggregates, pushed);
    return once(writer, command, (aggregate) => verify(writer, command, predicted, aggregate));
  };
  /**
   * A batch's command with its input upgraded; one whose input cannot be keeps its version, so
   * `authorized` refuses its fast path and the one-command path answers the refusal.
   */
  const upgradedOrAsIs = (command: ServerCommand): ServerCommand => {
    try {
      return currentInput(aggregates, command);
    } catch {
      return command;
    }
  };

  /** The parts of a batch of one writer's commands (decide-batch.ts), deciding with `decider`. */
  const batchParts = (
    writer: WriterIdentity,
    decider: BatchDecider,
    batch: BatchOptions = {},
  ): DecideBatchParts => {
    const store = options.storeFor(writer.principal);
    return {
      database: options.database,
      store,
      authorized: async (command) => {
        currentInput(aggregates, command);
        return authorized(writer.principal, command);
      },
      load: (aggregate, aggregateId) => handlerFor(writer.principal).load(aggregate, aggregateId),
      decider,
      versionOf: batch.versionOf ?? ((stream) => store.streamVersion(stream)),
      forgetState: (stream) => handlerFor(writer.principal).forgetState(stream),
      keepsState: (stream) => options.cachesState?.(stream) !== false,
    };
  };
  const inMemoryParts = (writer: WriterIdentity) => ({
    metadataOf: (command: ServerCommand) => metadataOf(writer, command),
    clock,
    newId,
  });

  return {
    forgetStates: (tenant) => void handlers.delete(tenant),
    decide: decideOnce,
    decideMany: (writer, commands, batch) =>
      decideBatch(
        batchParts(
          writer,
          {
            inMemory: decideInMemory(inMemoryParts(writer), writer),
            one: ({ command }) => decideOnce(writer, command),
            blocks: false,
          },
          batch,
        ),
        writer,
        commands.map((command) => ({ command: upgradedOrAsIs(command) })),
      ),
    verify: verifyOnce,
    verifyMany: (writer, entries, batch) =>
      decideBatch(
        batchParts(
          writer,
          {
            inMemory: verifyInMemory(inMemoryParts(writer), writer),
            one: ({ command, predicted = [] }) => verifyOnce(writer, command, predicted),
            blocks: true,
          },
          batch,
        ),
        writer,
        entries.map((entry) => ({ ...entry, command: upgradedOrAsIs(entry.command) })),
      ),
  };
}
