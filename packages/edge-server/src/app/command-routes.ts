import {
  type CommandAnswer,
  CommandPushEnvelopeSchema,
  CommandRequestSchema,
  PayloadTooLargeError,
  parseOrThrow,
  type StreamRef,
} from '@strata/core';
import { Hono } from 'hono';
import type { Authority } from '../authority/authority.ts';
import type { CommandAuthority } from '../authority/command-authority.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { EventFeed } from '../subscriptions/event-feed.ts';
import type { Principal } from './auth.ts';
import type { Authorize } from './authorize.ts';
import { applyCommandPush, type CommandPushContext } from './command-push-handler.ts';
import type { SyncLimits } from './limits.ts';
import { enforceEventLimits, pushBodyLimit } from './push-limits.ts';
import { checkPushProtocol } from './push-protocol.ts';
import { readJson } from './read-json.ts';
import type { SyncEnv } from './sync-env.ts';
import { toWireEvent } from './wire-event.ts';

/** What the command routes need from the app (its options with the defaults applied). */
export interface CommandRoutesOptions {
  readonly storeFor: (principal: Principal) => PostgresEventStore;
  readonly authority: CommandAuthority;
  readonly authorityOf: (aggregateType: string) => Authority;
  readonly authorize: Authorize | undefined;
  readonly events: Omit<CommandPushContext['events'], 'canWrite'>;
  readonly limits: SyncLimits;
  readonly feed: EventFeed;
  /** A server with scopes: the principal's tenant's aggregate scopes (`CommandPushContext`). */
  readonly scopesOf?: (
    principal: Principal,
    streams: readonly StreamRef[],
  ) => Promise<ReadonlyMap<string, string[]>>;
  /** The version a rejection reports (`CommandPushContext.versionOf`). */
  readonly versionOf?: (principal: Principal, stream: StreamRef) => Promise<number>;
}

/**
 * Protocol v2, to mount at `/v2` behind the authentication middleware:
 * - `POST /push`: commits that carry their commands, each decided by its aggregate's authority
 *   (`applyCommandPush`); the same body and event limits as v1
 * - `POST /commands`: one command (`CommandRequestSchema`) decided by the server; answers
 *   `{ events }` (what it stored) or the refusal as `problem+json`
 *
 * @example
 * app.route('/v2', commandRoutes({ storeFor, authority, authorityOf, ... }));
 */
export function commandRoutes(options: CommandRoutesOptions): Hono<SyncEnv> {
  const { limits } = options;
  const routes = new Hono<SyncEnv>();
  const canWriteOf = (principal: Principal) => (stream: StreamRef) =>
    options.authorize?.canWrite?.(principal, stream) ?? true;

  routes.post('/push', pushBodyLimit(limits), async (c) => {
    const body = await readJson(c.req.raw);
    checkPushProtocol(body);
    const push = parseOrThrow(CommandPushEnvelopeSchema, body, 'push request');
    enforceEventLimits(push.commits, limits);
    // Each command costs a decision even when it predicts no event: commands count too.
    if (push.commits.length > limits.maxEventsPerPush) {
      throw new PayloadTooLargeError(
        `A push holds at most ${limits.maxEventsPerPush} commands, this one ${push.commits.length}`,
        limits.maxEventsPerPush,
      );
    }
    const principal = c.get('principal');
    const { scopesOf, versionOf } = options;
    const response = await applyCommandPush(push, {
      principal,
      store: options.storeFor(principal),
      authority: options.authority,
      authorityOf: options.authorityOf,
      events: { ...options.events, canWrite: canWriteOf(principal) },
      ...(scopesOf === undefined
        ? {}
        : { scopesOf: (streams: readonly StreamRef[]) => scopesOf(principal, streams) }),
      ...(versionOf === undefined
        ? {}
        : { versionOf: (stream: StreamRef) => versionOf(principal, stream) }),
    });
    options.feed.wake();
    return c.json(response);
  });

  routes.post('/commands', pushBodyLimit(limits), async (c) => {
    const request = parseOrThrow(CommandRequestSchema, await readJson(c.req.raw), 'command');
    const principal = c.get('principal');
    const events = await options.authority.decide(
      { principal },
      {
        ...request,
        commandId: request.commandId ?? crypto.randomUUID(),
        inputVersion: request.inputVersion ?? 1,
      },
    );
    options.feed.wake();
    const answer: CommandAnswer = { events: events.map(toWireEvent) };
    return c.json(answer);
  });

  return routes;
}
