/**
 * Every route `createSyncApp` serves, as data: its method and path, who may call it, and the
 * shared zod schemas of its path, query, body and answer, with the problem codes it may answer.
 * openapi-document.ts turns the table into the OpenAPI description; the checks in
 * tooling/checks/openapi.test.ts compare it with the routes a created app registers, so a route
 * added without a line here fails them.
 */
import {
  CommandAnswerSchema,
  CommandPushRequestSchema,
  CommandPushResponseSchema,
  CommandRequestSchema,
  type ErrorCode,
  PullQuerySchema,
  PullResponseSchema,
  PushRequestSchema,
  PushResponseSchema,
  ScopedPullRequestSchema,
  ScopedPullResponseSchema,
  ScopedSubscribeBodySchema,
  ScopedSubscribeQuerySchema,
  ScopedSubscriptionMessageSchema,
  StreamHistoryQuerySchema,
  StreamHistoryResponseSchema,
  StreamMetadataSchema,
  StreamParamsSchema,
  SubscribeQuerySchema,
  SubscriptionMessageSchema,
} from '@strata/core';
import { z } from 'zod';
import type * as zc from 'zod/v4/core';
import {
  AckRequestSchema,
  ClaimRequestSchema,
  CreateConsumerGroupSchema,
  GroupNameSchema,
  LeaveRequestSchema,
  NackRequestSchema,
  ParkedIdSchema,
  ParkedQuerySchema,
} from '../app/consumer-group-routes.ts';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from '../observability/prometheus-text.ts';
import {
  AckResponseSchema,
  ClaimResponseSchema,
  ConsumerGroupStatusResponseSchema,
  DiscardResponseSchema,
  ForgetResponseSchema,
  HealthResponseSchema,
  LeaveResponseSchema,
  NackResponseSchema,
  ParkedListResponseSchema,
  ReadinessResponseSchema,
  ReplayResponseSchema,
} from './wire-schemas.ts';

/**
 * Who may call a route: a tenant's bearer token (what `authenticate` checks, a JWT with
 * `jwtAuthentication`), the metrics secret, or anyone.
 */
export type RouteAuth = 'bearer' | 'metrics' | 'none';

/** What a route answers with on success (200). */
export type RouteAnswer =
  | { readonly kind: 'json'; readonly schema: zc.$ZodType; readonly description: string }
  /** Server-Sent Events whose `data` lines are JSON messages of `message`. */
  | { readonly kind: 'events'; readonly message: zc.$ZodType; readonly description: string }
  | { readonly kind: 'text'; readonly mediaType: string; readonly description: string }
  /** The OpenAPI document itself. */
  | { readonly kind: 'openapi'; readonly description: string };

/** Request headers a route reads besides `authorization` and `x-request-id`. */
export type RouteRequestHeader =
  | 'strata-anchor'
  | 'last-event-id'
  | 'strata-subscription-features'
  | 'if-none-match';

/** One route of the app. */
export interface RouteDescription {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** The OpenAPI path template (`{name}` for a path parameter, Hono's `:name`). */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description: string;
  readonly auth: RouteAuth;
  /** An object schema of the path parameters, one property each. */
  readonly pathParams?: zc.$ZodType;
  /** An object schema of the query string, one property per parameter. */
  readonly query?: zc.$ZodType;
  readonly body?: { readonly schema: zc.$ZodType; readonly required: boolean };
  readonly requestHeaders?: readonly RouteRequestHeader[];
  /** Whether the answer names the log in `strata-log-id` (pulls). */
  readonly logId?: boolean;
  /**
   * Whether a settled answer carries `ETag`, `Cache-Control` and `Vary`, and `If-None-Match`
   * naming its ETag is answered 304 with no body (pull-cache.ts).
   */
  readonly revalidated?: boolean;
  readonly answer: RouteAnswer;
  /** The codes of the `application/problem+json` answers it may give, grouped by status in the document. */
  readonly problems: readonly ErrorCode[];
}

/** What every route behind authentication may answer: the guard, the token, the limits, the database. */
const AUTHENTICATED: readonly ErrorCode[] = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'STORAGE_FAILED',
  'UNAVAILABLE',
  'INTERNAL',
];

/** What a route with a JSON body adds: a malformed or untyped body, or one past the size limit. */
const WITH_BODY: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

/** What deciding one command may refuse with (`POST /v2/commands`; in a push, a rejected commit). */
const DECISION: readonly ErrorCode[] = [
  'VERSION_CONFLICT',
  'UNKNOWN_COMMAND',
  'UNKNOWN_EVENT_TYPE',
  'DOMAIN_RULE_VIOLATED',
  'REACTOR_REJECTED',
  'DUPLICATE_EVENT_ID',
  'NO_EVENTS',
];

/**
 * Codes answered only inside a push answer, as a rejected commit's `code` (never as a problem):
 * a v1 commit for an aggregate the server decides, and a `verify` prediction that differs.
 */
export const COMMIT_RESULT_CODES: readonly ErrorCode[] = [
  'COMMAND_REQUIRED',
  'PREDICTION_MISMATCH',
  ...DECISION,
  'VALIDATION_FAILED',
  'FORBIDDEN',
];

/** `{group}`. */
const GroupParams = z.strictObject({ group: GroupNameSchema });
/** `{group}` and a parked event's `{id}`. */
const ParkedParams = z.strictObject({ group: GroupNameSchema, id: ParkedIdSchema });

const GROUP_PROBLEMS: readonly ErrorCode[] = [
  ...AUTHENTICATED,
  ...WITH_BODY,
  'NOT_FOUND',
  'INVALID_CURSOR',
];

const json = (schema: zc.$ZodType, description: string): RouteAnswer => ({
  kind: 'json',
  schema,
  description,
});

/** The routes, in the order the document lists them. */
export const OPENAPI_ROUTES: readonly RouteDescription[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'probes',
    summary: 'Liveness',
    description: 'Answers while the process answers; says nothing about the database.',
    auth: 'none',
    answer: json(HealthResponseSchema, 'The process answers.'),
    problems: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'probes',
    summary: 'Readiness',
    description:
      'Ready when the database answers within 2 s and every migration this build needs is applied; else 503 `UNAVAILABLE` with `Retry-After`.',
    auth: 'none',
    answer: json(ReadinessResponseSchema, 'The server can serve.'),
    problems: ['UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'probes',
    summary: 'Prometheus metrics (opt-in)',
    description:
      "Only when the app is created with `metrics` (else 404); the path is `metrics.path`. Behind the metrics secret, not a tenant's token; holds no tenant's names or data.",
    auth: 'metrics',
    answer: {
      kind: 'text',
      mediaType: PROMETHEUS_TEXT_CONTENT_TYPE,
      description: 'The metrics in the Prometheus text format.',
    },
    problems: ['UNAUTHORIZED'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'probes',
    summary: 'This description',
    description:
      'The OpenAPI 3.1 document of the protocol, generated from the shared schemas. It carries a strong `ETag` with `Cache-Control: public, max-age=300`, and `If-None-Match` naming it answers 304 with no body.',
    auth: 'none',
    answer: { kind: 'openapi', description: 'The OpenAPI document.' },
    problems: [],
  },
  {
    method: 'post',
    path: '/v1/push',
    operationId: 'push',
    tag: 'sync v1',
    summary: 'Push commits (protocol v1)',
    description:
      'Each commit is validated and appended on its own: one bad commit is a `rejected` result, not a failed push. A commit of an aggregate the server decides is rejected with `COMMAND_REQUIRED` (push it to `/v2/push`). The body is bounded by `limits.maxBodyBytes`, its events by `maxEventsPerPush` and `maxEventBytes`.',
    auth: 'bearer',
    body: { schema: PushRequestSchema, required: true },
    answer: json(PushResponseSchema, 'One result per commit, in request order.'),
    problems: [...AUTHENTICATED, ...WITH_BODY],
  },
  {
    method: 'get',
    path: '/v1/pull',
    operationId: 'pull',
    tag: 'sync v1',
    summary: "A page of the tenant's events",
    description:
      'The events after `after` (absent: from the start) that the principal may read. With `strata-anchor` (the last event the client read), a log that no longer holds it answers 409 `LOG_DIVERGED`. A full page (`hasMore`, `limit` events, no `count`) does not grow, but may still change (a forgotten payload, a revoked read, a reset log): it carries a strong `ETag` with `Cache-Control: private, no-cache`, so a cache revalidates it, and `If-None-Match` naming it answers 304.',
    auth: 'bearer',
    query: PullQuerySchema,
    requestHeaders: ['strata-anchor', 'if-none-match'],
    logId: true,
    revalidated: true,
    answer: json(PullResponseSchema, 'A page of events; pass `cursor` as `after` to continue.'),
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'INVALID_CURSOR', 'LOG_DIVERGED'],
  },
  {
    method: 'get',
    path: '/v1/subscribe',
    operationId: 'subscribe',
    tag: 'sync v1',
    summary: "The tenant's events, live (SSE)",
    description:
      'Catches up after `after` (or starts at the end with `from=now`), sends `caught-up`, then each new event; heartbeats keep it open. `Last-Event-ID` (a reconnecting EventSource) wins over the query. A bad or unknown cursor is a 400 before the stream starts.',
    auth: 'bearer',
    query: SubscribeQuerySchema,
    requestHeaders: ['last-event-id', 'strata-subscription-features'],
    answer: {
      kind: 'events',
      message: SubscriptionMessageSchema,
      description:
        "Server-Sent Events; each message's `data` is a JSON `SubscriptionMessage`, an event message's `id` its cursor.",
    },
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'INVALID_CURSOR'],
  },
  {
    method: 'get',
    path: '/v1/streams/{aggregateType}/{aggregateId}',
    operationId: 'streamMetadata',
    tag: 'streams',
    summary: "An aggregate's metadata",
    description:
      'What the stream is, without its events. A stream whose last event the principal may not read is answered as missing.',
    auth: 'bearer',
    pathParams: StreamParamsSchema,
    answer: json(StreamMetadataSchema, "The stream's metadata."),
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'AGGREGATE_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/v1/streams/{aggregateType}/{aggregateId}/events',
    operationId: 'streamHistory',
    tag: 'streams',
    summary: "A page of an aggregate's history",
    description:
      'Events from `fromVersion`, in version order; events the principal may not read are left out.',
    auth: 'bearer',
    pathParams: StreamParamsSchema,
    query: StreamHistoryQuerySchema,
    answer: json(StreamHistoryResponseSchema, 'A page of the history.'),
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'AGGREGATE_NOT_FOUND'],
  },
  {
    method: 'delete',
    path: '/v1/streams/{aggregateType}/{aggregateId}/key',
    operationId: 'forgetAggregate',
    tag: 'streams',
    summary: 'Crypto-shred an aggregate (delete its key)',
    description:
      "Deletes the aggregate's encryption key: its events can no longer be read. Needs write access. Idempotent: deleting again answers `forgotten: false`.",
    auth: 'bearer',
    pathParams: StreamParamsSchema,
    answer: json(ForgetResponseSchema, 'Whether a key was deleted now.'),
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'AGGREGATE_NOT_FOUND'],
  },
  {
    method: 'put',
    path: '/v1/groups/{group}',
    operationId: 'createConsumerGroup',
    tag: 'consumer groups',
    summary: 'Create a consumer group',
    description:
      'Settings are fixed at creation and ignored when the group exists; the body may be empty. Every cursor of these routes is a tenant cursor (`t<n>`).',
    auth: 'bearer',
    pathParams: GroupParams,
    body: { schema: CreateConsumerGroupSchema, required: false },
    answer: json(ConsumerGroupStatusResponseSchema, "The group's status."),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'get',
    path: '/v1/groups/{group}',
    operationId: 'consumerGroupStatus',
    tag: 'consumer groups',
    summary: "A consumer group's status",
    description:
      'Checkpoints, owners, consumers, lag (counted over a bounded scan: `lagExact: false` means at least) and parked counts.',
    auth: 'bearer',
    pathParams: GroupParams,
    answer: json(ConsumerGroupStatusResponseSchema, "The group's status."),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v1/groups/{group}/claim',
    operationId: 'claimEvents',
    tag: 'consumer groups',
    summary: 'Claim partitions and their next events',
    description:
      "Renews the consumer's membership, rebalances, and hands out the next events of the partitions it holds, with queued replays.",
    auth: 'bearer',
    pathParams: GroupParams,
    body: { schema: ClaimRequestSchema, required: true },
    answer: json(ClaimResponseSchema, 'The claim.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v1/groups/{group}/ack',
    operationId: 'ackEvents',
    tag: 'consumer groups',
    summary: 'Acknowledge handled events',
    description:
      'Moves each partition checkpoint from `from` to `to`, if the consumer still owns it at `from` (else `lost`).',
    auth: 'bearer',
    pathParams: GroupParams,
    body: { schema: AckRequestSchema, required: true },
    answer: json(AckResponseSchema, 'Which acks took.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v1/groups/{group}/nack',
    operationId: 'nackEvent',
    tag: 'consumer groups',
    summary: 'Report a failed event',
    description:
      "A partition's event failed (retried later, parked after `maxAttempts`), or a queued replay failed.",
    auth: 'bearer',
    pathParams: GroupParams,
    body: { schema: NackRequestSchema, required: true },
    answer: json(NackResponseSchema, 'What the nack did.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v1/groups/{group}/leave',
    operationId: 'leaveConsumerGroup',
    tag: 'consumer groups',
    summary: 'Leave a consumer group',
    description:
      "Gives the consumer's partitions back at once, without waiting for its lease to end.",
    auth: 'bearer',
    pathParams: GroupParams,
    body: { schema: LeaveRequestSchema, required: true },
    answer: json(LeaveResponseSchema, 'Left.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'get',
    path: '/v1/groups/{group}/parked',
    operationId: 'listParkedEvents',
    tag: 'consumer groups',
    summary: "A page of the group's parked events",
    description: 'Events that failed `maxAttempts` times, by id; `after` pages.',
    auth: 'bearer',
    pathParams: GroupParams,
    query: ParkedQuerySchema,
    answer: json(ParkedListResponseSchema, 'The parked events the principal may read.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v1/groups/{group}/parked/{id}/replay',
    operationId: 'replayParkedEvent',
    tag: 'consumer groups',
    summary: 'Queue a parked event for another try',
    description: "The group's next claim hands it out as a replay.",
    auth: 'bearer',
    pathParams: ParkedParams,
    answer: json(ReplayResponseSchema, 'Queued.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'delete',
    path: '/v1/groups/{group}/parked/{id}',
    operationId: 'discardParkedEvent',
    tag: 'consumer groups',
    summary: 'Discard a parked event',
    description: 'Deletes it from the parked events; the partition has moved past it already.',
    auth: 'bearer',
    pathParams: ParkedParams,
    answer: json(DiscardResponseSchema, 'Discarded.'),
    problems: GROUP_PROBLEMS,
  },
  {
    method: 'post',
    path: '/v2/push',
    operationId: 'commandPush',
    tag: 'sync v2',
    summary: 'Push commands with their predicted events (protocol v2)',
    description:
      "Each commit carries the command that produced it and is decided by its aggregate's authority (`decide`, `verify` or `events`); the answer carries the events the server stored, which replace the prediction. Another `protocol` than 2 is 400 `UNSUPPORTED_PROTOCOL`.",
    auth: 'bearer',
    body: { schema: CommandPushRequestSchema, required: true },
    answer: json(CommandPushResponseSchema, 'One result per commit, in request order.'),
    problems: [...AUTHENTICATED, ...WITH_BODY, 'UNSUPPORTED_PROTOCOL'],
  },
  {
    method: 'post',
    path: '/v2/commands',
    operationId: 'executeCommand',
    tag: 'sync v2',
    summary: 'Run one command on the server',
    description:
      'For a client without a local store: the server decides the command on its state. The same `commandId` again answers what the first run stored.',
    auth: 'bearer',
    body: { schema: CommandRequestSchema, required: true },
    answer: json(CommandAnswerSchema, 'The events the server stored (none: nothing changed).'),
    problems: [...AUTHENTICATED, ...WITH_BODY, ...DECISION],
  },
  {
    method: 'post',
    path: '/v2/pull',
    operationId: 'scopedPull',
    tag: 'sync v2',
    summary: "A page of the scopes' items",
    description:
      "Each scope after its own cursor. Every scope is resolved against the server's definitions (400 `VALIDATION_FAILED`) and checked against its rule (403 `FORBIDDEN` with `scopes`) before anything is read. With `strata-anchor` (the last event the client received, at the tenant position its item carried), a log that no longer holds it answers 409 `LOG_DIVERGED`, as on `GET /v1/pull`.",
    auth: 'bearer',
    body: { schema: ScopedPullRequestSchema, required: true },
    requestHeaders: ['strata-anchor'],
    logId: true,
    answer: json(ScopedPullResponseSchema, "The items in order and each scope's next cursor."),
    problems: [...AUTHENTICATED, ...WITH_BODY, 'INVALID_CURSOR', 'LOG_DIVERGED'],
  },
  {
    method: 'get',
    path: '/v2/subscribe',
    operationId: 'scopedSubscribe',
    tag: 'sync v2',
    summary: "The scopes' items, live (SSE)",
    description:
      '`scope` repeated (or one), all read after the one `after` cursor, then live. The rules are checked again at every heartbeat: a refused one ends the stream with `closing: access-changed`. `Last-Event-ID` wins over `after`.',
    auth: 'bearer',
    query: ScopedSubscribeQuerySchema,
    requestHeaders: ['last-event-id'],
    answer: {
      kind: 'events',
      message: ScopedSubscriptionMessageSchema,
      description:
        "Server-Sent Events; each message's `data` is a JSON `ScopedSubscriptionMessage`.",
    },
    problems: [...AUTHENTICATED, 'VALIDATION_FAILED', 'INVALID_CURSOR'],
  },
  {
    method: 'post',
    path: '/v2/subscribe',
    operationId: 'scopedSubscribeByBody',
    tag: 'sync v2',
    summary: "The scopes' items, live (SSE), scopes in the body",
    description: 'The same as `GET /v2/subscribe`, for scope sets whose keys make too long a URL.',
    auth: 'bearer',
    body: { schema: ScopedSubscribeBodySchema, required: true },
    requestHeaders: ['last-event-id'],
    answer: {
      kind: 'events',
      message: ScopedSubscriptionMessageSchema,
      description:
        "Server-Sent Events; each message's `data` is a JSON `ScopedSubscriptionMessage`.",
    },
    problems: [...AUTHENTICATED, ...WITH_BODY, 'INVALID_CURSOR'],
  },
];
