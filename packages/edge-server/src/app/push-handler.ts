import {
  type AnyAggregateDefinition,
  CommandRequiredError,
  type Commit,
  CommitSchema,
  type EventEnvelope,
  type EventStore,
  ForbiddenError,
  isEncryptedPayload,
  isForgotten,
  isStrataError,
  loadAggregate,
  NameSchema,
  NO_STREAM,
  type PushEnvelope,
  type PushRequest,
  type PushResponse,
  type StreamRef,
  safeParseSchema,
  toValidationIssues,
  UnknownEventTypeError,
  ValidationFailedError,
  type ValidationIssue,
} from '@strata/core';
import { stampedMetadata } from '../authority/stamped-metadata.ts';
import type { CommitAppend } from '../postgres/append-commits.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { Principal } from './auth.ts';
import { blockedByEarlierRejection, createPushLedger } from './push-ledger.ts';
import { wirePosition } from './wire-event.ts';

/** How a push is checked before its commits are stored. */
export interface PushOptions {
  /** Registered aggregates by type: their events are decoded with the shared definitions. */
  readonly aggregates?: ReadonlyMap<string, AnyAggregateDefinition>;
  /** Also fold each commit onto the aggregate's stored history with `evolve`; a throw rejects it. */
  readonly foldThroughEvolve?: boolean;
  /** Whether the principal may write this aggregate (`FORBIDDEN` otherwise). */
  readonly canWrite?: (stream: StreamRef) => boolean | Promise<boolean>;
  /** Who pushes: stamped as `userId` and `tenant` on every stored event. */
  readonly principal?: Principal;
  /**
   * Aggregate types whose commands the server decides (authority `decide` or `verify`): a v1
   * commit of theirs carries no command and is rejected with `COMMAND_REQUIRED`.
   */
  readonly requiresCommand?: (aggregateType: string) => boolean;
  /**
   * The version a rejection reports (defaults to the stored one). A server with scopes reports 0
   * for aggregates the writer may not reach, so a refusal tells nothing of them.
   */
  readonly versionOf?: (stream: StreamRef) => Promise<number>;
}

/**
 * Applies a push: each commit atomically, in order. An event at version v is accepted only if the
 * aggregate is at v - 1, so a commit appends with that exact expected version; re-pushing stored
 * events is answered with their positions. A rejected commit rejects the later commits of the
 * same push on the same aggregate (they were decided on top of it); other aggregates proceed.
 * The accepted commits are stored together (`store.appendCommits`, push-ledger.ts): a few round
 * trips whatever the number of commits, with the rules of one commit after the other.
 *
 * Each commit is validated on its own (`CommitSchema`): a malformed one is answered `rejected`
 * with `VALIDATION_FAILED`, so one bad commit never fails the whole push and blocks the client's
 * queue. Errors that are not about a commit (`UNAVAILABLE`: the database is gone; anything that
 * is not a strata error) are thrown, and the whole push is answered 503/500.
 *
 * @example
 * const envelope = parseOrThrow(PushEnvelopeSchema, body, 'push request');
 * const { results } = await applyPush(store, envelope, { canWrite });
 */
export async function applyPush(
  store: PostgresEventStore,
  push: PushEnvelope | PushRequest,
  options: PushOptions = {},
): Promise<PushResponse> {
  const { canWrite = () => true } = options;
  const ledger = createPushLedger({
    store,
    versionOf: options.versionOf ?? ((stream: StreamRef) => store.streamVersion(stream)),
    accepted: (commitId, stored) => ({
      commitId,
      status: 'accepted' as const,
      positions: stored.map(wirePosition),
    }),
  });
  const seenEventIds = new Set<string>();
  for (const raw of push.commits) {
    const parsed = parseCommit(raw, seenEventIds);
    if (!parsed.ok) {
      await ledger.reject(raw.commitId, parsed.stream, parsed.error, { afterRejection: 'keep' });
      continue;
    }
    const commit = parsed.commit;
    const first = commit.events[0] as EventEnvelope;
    const stream: StreamRef = {
      aggregateType: first.aggregateType,
      aggregateId: first.aggregateId,
    };
    const blockedAt = ledger.rejectedAt(stream);
    if (blockedAt !== undefined) {
      ledger.answer(blockedByEarlierRejection(commit.commitId, blockedAt), stream);
      continue;
    }
    try {
      if (options.requiresCommand?.(stream.aggregateType) === true) {
        throw new CommandRequiredError(stream.aggregateType);
      }
      const append = await prepareEventsCommit(store, commit.events, {
        ...options,
        canWrite,
        clientId: push.clientId,
        settle: (held) => (ledger.holds(held) ? ledger.settle() : undefined),
      });
      ledger.queue(commit.commitId, append);
    } catch (error) {
      // A lost database is the server's problem, not the commit's: the client must retry it.
      if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
      await ledger.reject(commit.commitId, stream, error);
    }
  }
  const entries = await ledger.finish();
  return { results: entries.map(({ answer }) => answer) as PushResponse['results'] };
}

/** What `prepareEventsCommit` checks and stamps. */
export interface EventsCommitOptions extends Omit<PushOptions, 'requiresCommand'> {
  readonly canWrite: (stream: StreamRef) => boolean | Promise<boolean>;
  /** The device's id from the push envelope. */
  readonly clientId: string;
  /**
   * Stores the push's queued commits of this aggregate before `evolve` folds onto its history
   * (`foldThroughEvolve`): the fold must see the push's earlier commits.
   */
  readonly settle?: (stream: StreamRef) => Promise<void> | undefined;
}

/**
 * Checks a commit's events as they were pushed (authority `events`, and protocol v1): the write
 * rule, the event schemas (and `evolve` when asked), and makes the append that stores them at
 * exactly the version after the one the client decided on, with the writer's identity stamped
 * into the metadata. Throws the typed error of a refusal.
 */
export async function prepareEventsCommit(
  store: PostgresEventStore,
  events: readonly EventEnvelope[],
  options: EventsCommitOptions,
): Promise<CommitAppend> {
  const first = events[0] as EventEnvelope;
  const stream: StreamRef = { aggregateType: first.aggregateType, aggregateId: first.aggregateId };
  if (!(await options.canWrite(stream))) {
    throw new ForbiddenError(
      `Writing ${stream.aggregateType}/${stream.aggregateId} is not allowed`,
    );
  }
  const { aggregates } = options;
  validateCommit(events, aggregates);
  const aggregate = aggregates?.get(stream.aggregateType);
  if (options.foldThroughEvolve === true && aggregate !== undefined) {
    await options.settle?.(stream);
    await foldOntoHistory(store, aggregate, events);
  }
  return {
    stream,
    events: events.map(({ id, type, schemaVersion, occurredAt, data, metadata }) => ({
      id,
      type,
      schemaVersion,
      occurredAt,
      data,
      metadata:
        options.principal === undefined
          ? { ...metadata, clientId: options.clientId }
          : stampedMetadata(metadata, { principal: options.principal, clientId: options.clientId }),
    })),
    expectedVersion: first.version === 1 ? NO_STREAM : first.version - 1,
  };
}

type ParsedCommit =
  | { readonly ok: true; readonly commit: Commit }
  | {
      readonly ok: false;
      readonly error: ValidationFailedError;
      /** The aggregate the commit names, when its first event names one validly. */
      readonly stream: StreamRef | undefined;
    };

/**
 * One commit checked on its own: its shape (`CommitSchema`), and no event id that an earlier
 * commit of the same push already carries. The ids of a valid commit join `seenEventIds`.
 */
function parseCommit(raw: unknown, seenEventIds: Set<string>): ParsedCommit {
  const result = safeParseSchema(CommitSchema, raw);
  if (!result.success) {
    const issues = toValidationIssues(result.error);
    return {
      ok: false,
      error: new ValidationFailedError(invalidCommitMessage(issues), issues, {
        cause: result.error,
      }),
      stream: namedStream(raw),
    };
  }
  const commit = result.data;
  const repeated = commit.events.findIndex((event) => seenEventIds.has(event.id));
  if (repeated >= 0) {
    const issues = [
      { path: ['events', repeated, 'id'], message: 'event id appears in two commits' },
    ];
    return {
      ok: false,
      error: new ValidationFailedError(invalidCommitMessage(issues), issues),
      stream: namedStream(raw),
    };
  }
  for (const event of commit.events) seenEventIds.add(event.id);
  return { ok: true, commit };
}

/** The rejection's message names the first issue: the client shows it beside the command. */
export function invalidCommitMessage(issues: readonly ValidationIssue[]): string {
  const [first] = issues;
  return first === undefined
    ? 'Invalid commit'
    : `Invalid commit: ${first.path.join('.') || '(commit)'}: ${first.message}`;
}

/** The aggregate an invalid commit's first event names, if both names are valid. */
function namedStream(raw: unknown): StreamRef | undefined {
  const events = (raw as { events?: unknown }).events;
  const first = Array.isArray(events) ? (events[0] as Record<string, unknown> | null) : undefined;
  if (first === null || typeof first !== 'object') return undefined;
  const type = NameSchema.safeParse(first.aggregateType);
  const id = NameSchema.safeParse(first.aggregateId);
  return type.success && id.success
    ? { aggregateType: type.data, aggregateId: id.data }
    : undefined;
}

/**
 * Decodes each event with the shared definitions, so the server stores only events its
 * aggregates can apply: unknown types are `UNKNOWN_EVENT_TYPE`, invalid data `VALIDATION_FAILED`.
 * Without registered aggregates, any well-formed event is stored as it is. A payload a client
 * encrypted is stored as it came: the server cannot read it, so only its type is checked.
 */
function validateCommit(
  events: readonly EventEnvelope[],
  aggregates: ReadonlyMap<string, AnyAggregateDefinition> | undefined,
): void {
  if (aggregates === undefined) return;
  for (const event of events) {
    const aggregate = aggregates.get(event.aggregateType);
    if (aggregate === undefined) {
      throw new UnknownEventTypeError(`${event.aggregateType}/${event.type}`, event.schemaVersion);
    }
    if (isEncryptedPayload(event.data)) {
      aggregate.events.get(event.type);
      continue;
    }
    // Only readers make the marker; pushed as data it would slip past the schema check.
    if (isForgotten(event.data)) {
      throw new ValidationFailedError(`Event ${event.id} carries a forgotten marker as data`, []);
    }
    try {
      aggregate.events.decode(event);
    } catch (error) {
      // An app's upcaster that is not total (a TypeError on crafted data) refuses this commit
      // only: rethrown, it would fail every retry of the whole push (issue 12, item 2).
      if (isStrataError(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationFailedError(`Event ${event.id} cannot be decoded: ${reason}`, [], {
        cause: error,
      });
    }
  }
}

/**
 * Applies the commit's events to the aggregate's stored state with the shared `evolve`, so events
 * the aggregate cannot apply are refused before they are stored (`VALIDATION_FAILED`).
 */
async function foldOntoHistory(
  store: PostgresEventStore,
  aggregate: AnyAggregateDefinition,
  events: readonly EventEnvelope[],
): Promise<void> {
  const first = events[0] as EventEnvelope;
  // Encrypted by the client: the server cannot apply what it cannot read.
  if (events.some((event) => isEncryptedPayload(event.data))) return;
  const loaded = await loadAggregate(store as EventStore<never>, aggregate, first.aggregateId);
  // Not on top of the stored history: the append itself will answer with a version conflict.
  if (loaded.version !== first.version - 1) return;
  try {
    events.reduce(
      (state, event) => aggregate.evolve(state, aggregate.events.decode(event)),
      loaded.state,
    );
  } catch (error) {
    if (isStrataError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationFailedError(`The aggregate cannot apply these events: ${reason}`, [], {
      cause: error,
    });
  }
}
