import { isStrataError } from '@strata/core';
import type { SharedConnection } from './shared-connection.ts';
import type { SyncActivity } from './sync-activity.ts';
import type { SyncTransport } from './sync-transport.ts';
import type { TabStatusCell } from './tab-status.ts';

/**
 * Failures already on the timeline: the loops hand a failed request's error to
 * `connection.fail` too, and it must not show twice.
 */
type Recorded = WeakSet<object>;

/**
 * The transport, recording each request on the timeline: pushes with their answers, pull pages,
 * live stream events (coalesced), and failed requests (an abort, from `stop`, is not one).
 * Wrapping the transport keeps the loops free of timeline calls.
 */
export function recordTransport(
  transport: SyncTransport,
  activity: SyncActivity,
  recorded: Recorded = new WeakSet(),
): SyncTransport {
  const failed = (route: string, error: unknown, signal: AbortSignal | undefined) => {
    if (signal?.aborted !== true && !isAbort(error)) {
      activity.record('error', `${route} failed: ${describeError(error)}`);
      if (typeof error === 'object' && error !== null) recorded.add(error);
    }
    return error;
  };
  return {
    // Calls not listed here (e.g. a reachability check) go through unrecorded.
    ...transport,
    async push(request, signal) {
      try {
        const response = await transport.push(request, signal);
        const accepted = response.results.filter((result) => result.status === 'accepted').length;
        const rejected = response.results.length - accepted;
        activity.record(
          'push',
          `${plural(request.commits.length, 'commit')}: ${accepted} accepted` +
            (rejected > 0 ? `, ${rejected} rejected` : ''),
        );
        return response;
      } catch (error) {
        throw failed(`push of ${plural(request.commits.length, 'commit')}`, error, signal);
      }
    },
    async pull(after, limit, options) {
      try {
        const page = await transport.pull(after, limit, options);
        activity.record(
          'pull',
          `${plural(page.events.length, 'event')}${page.hasMore ? ', more waiting' : ''}` +
            (page.remaining === undefined ? '' : ` (${page.remaining} remaining)`),
        );
        return page;
      } catch (error) {
        throw failed('pull', error, options?.signal);
      }
    },
    async pullScopes(request, options) {
      try {
        const page = await transport.pullScopes(request, options);
        activity.record(
          'pull',
          `${plural(page.items.length, 'item')} of ${plural(request.scopes.length, 'scope')}` +
            (page.hasMore ? ', more waiting' : ''),
        );
        return page;
      } catch (error) {
        throw failed('scoped pull', error, options?.signal);
      }
    },
    async streamHistory(stream, fromVersion, limit, signal) {
      try {
        const page = await transport.streamHistory(stream, fromVersion, limit, signal);
        activity.record(
          'pull',
          `history of ${stream.aggregateType}/${stream.aggregateId} from v${fromVersion}: ` +
            plural(page.events.length, 'event'),
        );
        return page;
      } catch (error) {
        throw failed('history', error, signal);
      }
    },
    subscribe(after, signal) {
      const messages = transport.subscribe(after, signal);
      return counting(
        messages,
        (message) => message.kind === 'event',
        activity,
        (error) => failed('live stream', error, signal),
      );
    },
    subscribeScopes(scopes, after, signal) {
      const messages = transport.subscribeScopes(scopes, after, signal);
      return counting(
        messages,
        (item) => item.message.kind === 'event',
        activity,
        (error) => failed('scoped live stream', error, signal),
      );
    },
  };
}

async function* counting<T>(
  messages: AsyncIterable<T>,
  isEvent: (message: T) => boolean,
  activity: SyncActivity,
  failed: (error: unknown) => unknown,
): AsyncGenerator<T> {
  try {
    for await (const message of messages) {
      if (isEvent(message)) activity.received(1);
      yield message;
    }
  } catch (error) {
    throw failed(error);
  }
}

/**
 * The shared connection, recording on the timeline when the live stream connects (caught up)
 * and disconnects, and the failures the loops share that no request recorded (storage, apply).
 */
export function recordConnection<T extends Pick<SharedConnection, 'current' | 'share' | 'fail'>>(
  connection: T,
  activity: SyncActivity,
  recorded: Recorded,
): T {
  return {
    ...connection,
    async share(change) {
      const before = connection.current().connected;
      await connection.share(change);
      const after = connection.current().connected;
      if (before !== after) {
        activity.record(
          after ? 'connect' : 'disconnect',
          after ? 'following the server live' : 'live stream closed',
        );
      }
    },
    async fail(error) {
      if (
        !isAbort(error) &&
        !(typeof error === 'object' && error !== null && recorded.has(error))
      ) {
        activity.record('error', describeError(error));
      }
      await connection.fail(error);
    },
  };
}

/** Records on the timeline when this tab starts or stops being the one that syncs. */
export function recordLeadership(tab: TabStatusCell, activity: SyncActivity): () => void {
  let leader = tab.get().leader;
  return tab.subscribe(() => {
    const now = tab.get().leader;
    if (now === leader) return;
    leader = now;
    activity.record(
      now ? 'leader' : 'follower',
      now ? 'this tab syncs (holds the Web Lock)' : 'another tab syncs; this one stopped',
    );
  });
}

/** One recorder for a sync client: the transport and the connection share what they recorded. */
export function createActivityRecording(activity: SyncActivity): {
  transport: (transport: SyncTransport) => SyncTransport;
  connection: <T extends Pick<SharedConnection, 'current' | 'share' | 'fail'>>(connection: T) => T;
} {
  const recorded: Recorded = new WeakSet();
  return {
    transport: (transport) => recordTransport(transport, activity, recorded),
    connection: (connection) => recordConnection(connection, activity, recorded),
  };
}

function describeError(error: unknown): string {
  if (isStrataError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
