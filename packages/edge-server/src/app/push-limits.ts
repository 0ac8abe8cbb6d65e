import { PayloadTooLargeError } from '@strata/core';
import { bodyLimit } from 'hono/body-limit';
import type { SyncLimits } from './limits.ts';

/** The body limit of push routes: `PAYLOAD_TOO_LARGE` past `limits.maxBodyBytes`, unread. */
export function pushBodyLimit(limits: SyncLimits) {
  return bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw new PayloadTooLargeError(
        `The body is larger than ${limits.maxBodyBytes} bytes`,
        limits.maxBodyBytes,
      );
    },
  });
}

/**
 * The event limits of a push (both protocols), over the commits' raw `events` arrays before any
 * commit is validated: at most `maxEventsPerPush` events, each at most `maxEventBytes` as JSON.
 */
export function enforceEventLimits(
  commits: readonly Readonly<Record<string, unknown>>[],
  limits: SyncLimits,
): void {
  const events = commits.flatMap((commit) => (Array.isArray(commit.events) ? commit.events : []));
  if (events.length > limits.maxEventsPerPush) {
    throw new PayloadTooLargeError(
      `A push holds at most ${limits.maxEventsPerPush} events, this one ${events.length}`,
      limits.maxEventsPerPush,
    );
  }
  const encoder = new TextEncoder();
  for (const event of events) {
    if (encoder.encode(JSON.stringify(event)).length > limits.maxEventBytes) {
      throw new PayloadTooLargeError(
        `An event is larger than ${limits.maxEventBytes} bytes`,
        limits.maxEventBytes,
      );
    }
  }
}
