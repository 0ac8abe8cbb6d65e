import {
  type AnyAggregateDefinition,
  type EventEnvelope,
  type EventStore,
  ForbiddenError,
  isEncryptedPayload,
  isForgotten,
  isStrataError,
  loadAggregate,
  NO_STREAM,
  type PushRequest,
  type PushResponse,
  type StreamRef,
  streamKey,
  UnknownEventTypeError,
  ValidationFailedError,
} from '@strata/core';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';

type CommitResult = PushResponse['results'][number];

/** How a push is checked before its commits are stored. */
export interface PushOptions {
  /** Registered aggregates by type: their events are decoded with the shared definitions. */
  readonly aggregates?: ReadonlyMap<string, AnyAggregateDefinition>;
  /** Also fold each commit onto the aggregate's stored history with `evolve`; a throw rejects it. */
  readonly foldThroughEvolve?: boolean;
  /** Whether the principal may write this aggregate (`FORBIDDEN` otherwise). */
  readonly canWrite?: (stream: StreamRef) => boolean | Promise<boolean>;
}

/**
 * Applies a push: each commit atomically, in order. An event at version v is accepted only if the
 * aggregate is at v - 1, so a commit appends with that exact expected version; re-pushing stored
 * events is answered with their positions. A rejected commit rejects the later commits of the
 * same push on the same aggregate (they were decided on top of it); other aggregates proceed.
 */
export async function applyPush(
  store: PostgresEventStore,
  push: PushRequest,
  options: PushOptions = {},
): Promise<PushResponse> {
  const { aggregates, canWrite = () => true } = options;
  const rejectedVersion = new Map<string, number>();
  const results: CommitResult[] = [];
  for (const commit of push.commits) {
    const first = commit.events[0] as EventEnvelope;
    const stream: StreamRef = {
      aggregateType: first.aggregateType,
      aggregateId: first.aggregateId,
    };
    const key = streamKey(stream);
    const blockedAt = rejectedVersion.get(key);
    if (blockedAt !== undefined) {
      results.push({
        commitId: commit.commitId,
        status: 'rejected',
        code: 'VERSION_CONFLICT',
        message: 'An earlier commit of this push on the same aggregate was rejected',
        currentVersion: blockedAt,
      });
      continue;
    }
    try {
      if (!(await canWrite(stream))) {
        throw new ForbiddenError(
          `Writing ${stream.aggregateType}/${stream.aggregateId} is not allowed`,
        );
      }
      validateCommit(commit.events, aggregates);
      const aggregate = aggregates?.get(stream.aggregateType);
      if (options.foldThroughEvolve === true && aggregate !== undefined) {
        await foldOntoHistory(store, aggregate, commit.events);
      }
      const result = await store.append(
        stream,
        commit.events.map(({ id, type, schemaVersion, occurredAt, data, metadata }) => ({
          id,
          type,
          schemaVersion,
          occurredAt,
          data,
          metadata: { ...metadata, clientId: push.clientId },
        })),
        { expectedVersion: first.version === 1 ? NO_STREAM : first.version - 1 },
      );
      results.push({
        commitId: commit.commitId,
        status: 'accepted',
        positions: result.events.map((event) => event.position),
      });
    } catch (error) {
      if (!isStrataError(error)) throw error;
      const currentVersion = isStrataError(error, 'VERSION_CONFLICT')
        ? error.actualVersion
        : await store.streamVersion(stream);
      rejectedVersion.set(key, currentVersion);
      results.push({
        commitId: commit.commitId,
        status: 'rejected',
        code: error.code,
        message: error.message,
        currentVersion,
      });
    }
  }
  return { results };
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
    aggregate.events.decode(event);
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
