import {
  type AnyAggregateDefinition,
  type EventEnvelope,
  ForbiddenError,
  isStrataError,
  NO_STREAM,
  type PushRequest,
  type PushResponse,
  type StreamRef,
  streamKey,
  UnknownEventTypeError,
} from '@strata/core';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';

type CommitResult = PushResponse['results'][number];

/**
 * Applies a push: each commit atomically, in order. An event at version v is accepted only if the
 * aggregate is at v - 1, so a commit appends with that exact expected version; re-pushing stored
 * events is answered with their positions. A rejected commit rejects the later commits of the
 * same push on the same aggregate (they were decided on top of it); other aggregates proceed.
 */
export async function applyPush(
  store: PostgresEventStore,
  push: PushRequest,
  aggregates: ReadonlyMap<string, AnyAggregateDefinition> | undefined,
  canWrite: (stream: StreamRef) => boolean | Promise<boolean> = () => true,
): Promise<PushResponse> {
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
 * Without registered aggregates, any well-formed event is stored as it is.
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
    aggregate.events.decode(event);
  }
}
