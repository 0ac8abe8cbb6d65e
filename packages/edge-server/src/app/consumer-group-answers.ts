/**
 * What the consumer-group routes say and take, in the tenant's cursors (issue 12, item 11): the
 * claim, the status and the parked list on the way out; acks and nacks on the way in, put back in
 * the stored (global) places. Pure over `ConsumerGroupCursors`, so the routes only parse, call
 * the state machine and answer.
 */
import type { PullResponse, StoredEvent } from '@strata/core';
import type { PartitionAck, PartitionNack } from '../consumer-groups/acknowledge-events.ts';
import type { Claim } from '../consumer-groups/claim-events.ts';
import type { ConsumerGroupStatus, ParkedEvent } from '../consumer-groups/consumer-group-admin.ts';
import type {
  ConsumerGroup,
  ConsumerGroupSettingsOptions,
} from '../consumer-groups/consumer-group-definition.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { ConsumerGroupCursors } from './consumer-group-cursors.ts';
import { toWireEvent } from './wire-event.ts';

/**
 * An event on the wire, with its tenant cursor (what a partial ack or a nack quotes): never the
 * global one, which would tell the tenant how much the others write.
 */
const wire = (event: PostgresStoredEvent): GroupWireEvent => ({
  ...toWireEvent(event),
  cursor: event.tenantCursor,
});

/** An event as the group routes hand it out: the protocol's event and its tenant cursor. */
export type GroupWireEvent = PullResponse['events'][number] & { readonly cursor: string };

/** A claim as the principal sees it. */
export interface ClaimAnswer {
  readonly consumerId: string;
  readonly owned: readonly number[];
  readonly partitions: readonly {
    readonly partition: number;
    readonly from: string;
    readonly until: string;
    readonly attempts: number;
    readonly events: readonly (GroupWireEvent & { readonly previous: string })[];
  }[];
  readonly replays: readonly (Omit<Claim['replays'][number], 'event'> & {
    readonly event: GroupWireEvent;
  })[];
}

/** Each event with the cursor of the one before it in its partition's batch (`from` for the first). */
function withPrevious(from: string, events: readonly PostgresStoredEvent[]) {
  return events.map((event, index) => ({
    event,
    previous: events[index - 1]?.tenantCursor ?? from,
  }));
}

/** A claim as the principal sees it: its readable events, every place a tenant cursor. */
export async function claimAnswer(
  cursors: ConsumerGroupCursors,
  claim: Claim,
  readable: (event: StoredEvent) => boolean,
): Promise<ClaimAnswer> {
  const froms = await cursors.toTenant(claim.partitions.map((batch) => batch.from));
  return {
    consumerId: claim.consumerId,
    owned: claim.owned,
    // `until` covers unreadable events too, so acking it moves past them. Each event carries
    // `previous`, the cursor right before it (readable or not): a nack's `to` when it fails.
    partitions: claim.partitions.map((batch) => {
      const from = froms.get(batch.from) as string;
      return {
        ...batch,
        from,
        until: batch.events.at(-1)?.tenantCursor ?? from,
        events: withPrevious(from, batch.events)
          .filter(({ event }) => readable(event))
          .map(({ event, previous }) => ({ ...wire(event), previous })),
      };
    }),
    replays: claim.replays
      .filter((replay) => readable(replay.event))
      .map((replay) => ({ ...replay, event: wire(replay.event) })),
  };
}

/** The acks of a request in the stored places (see `quotedCheckpoints` for `from`). */
export async function storedAcks(
  cursors: ConsumerGroupCursors,
  groupId: string,
  acks: readonly PartitionAck[],
): Promise<PartitionAck[]> {
  const froms = await cursors.quotedCheckpoints(groupId, acks);
  const tos = await cursors.toGlobal(
    acks.filter((ack) => ack.to !== ack.from).map((ack) => ack.to),
  );
  // An ack that does not move quotes its checkpoint twice: the same place, however named.
  return acks.map((ack, index) => {
    const from = froms[index] as string;
    return { partition: ack.partition, from, to: tos.get(ack.to) ?? from };
  });
}

/** A partition's nack in the stored places. */
export async function storedNack(
  cursors: ConsumerGroupCursors,
  groupId: string,
  nack: Omit<PartitionNack, 'to'> & { readonly to?: string | undefined },
): Promise<PartitionNack> {
  const { from: quotedFrom, to: quotedTo, ...failure } = nack;
  const [from] = await cursors.quotedCheckpoints(groupId, [
    { partition: nack.partition, from: quotedFrom },
  ]);
  // `to` is `from` when the batch's first event failed: the same checkpoint, however named.
  const to =
    quotedTo === undefined || quotedTo === quotedFrom
      ? undefined
      : (await cursors.toGlobal([quotedTo])).get(quotedTo);
  return { ...failure, from: from as string, ...(to === undefined ? {} : { to }) };
}

/** The settings of `PUT /v1/groups/:group` as the group stores them (the wire keeps flat names). */
export function storedSettings(wire: {
  readonly partitions?: number | undefined;
  readonly maxAttempts?: number | undefined;
  readonly retryBaseMs?: number | undefined;
  readonly retryMaxMs?: number | undefined;
}): ConsumerGroupSettingsOptions {
  return {
    ...(wire.partitions === undefined ? {} : { partitions: wire.partitions }),
    ...(wire.maxAttempts === undefined ? {} : { maxAttempts: wire.maxAttempts }),
    backoff: {
      ...(wire.retryBaseMs === undefined ? {} : { initialDelayMs: wire.retryBaseMs }),
      ...(wire.retryMaxMs === undefined ? {} : { maxDelayMs: wire.retryMaxMs }),
    },
  };
}

/** A group's status as the principal sees it: no tenant field, checkpoints as tenant cursors. */
export async function statusAnswer(
  cursors: ConsumerGroupCursors,
  group: ConsumerGroup,
  status: ConsumerGroupStatus,
) {
  const { tenant: _tenant, ...visible } = status;
  const checkpoints = await cursors.toTenant(
    visible.partitions.map((partition) => partition.checkpoint),
  );
  return {
    ...visible,
    partitions: visible.partitions.map((partition) => ({
      ...partition,
      checkpoint: checkpoints.get(partition.checkpoint) as string,
    })),
    // The wire keeps its flat names for the group's backoff.
    settings: {
      partitions: group.partitions,
      maxAttempts: group.maxAttempts,
      retryBaseMs: group.backoff.initialDelayMs,
      retryMaxMs: group.backoff.maxDelayMs,
    },
  };
}

/** A parked event as the principal sees it. */
export const parkedAnswer = (
  parked: ParkedEvent,
): Omit<ParkedEvent, 'event'> & { readonly event: GroupWireEvent } => ({
  ...parked,
  event: wire(parked.event),
});
