import {
  COMMAND_PROTOCOL_VERSION,
  type CommandPushRequest,
  type CommandPushResponse,
  CommandPushResponseSchema,
  formatLogAnchor,
  fromProblemDetails,
  InternalError,
  isStrataError,
  LOG_ANCHOR_HEADER,
  LOG_ID_HEADER,
  type LogAnchor,
  type PullResponse,
  PullResponseSchema,
  RateLimitedError,
  readServerSentEvents,
  type ScopedPullRequest,
  type ScopedPullResponse,
  ScopedPullResponseSchema,
  type ScopedSubscribeBody,
  type ScopedSubscriptionMessage,
  ScopedSubscriptionMessageSchema,
  type StreamHistoryResponse,
  StreamHistoryResponseSchema,
  type StreamRef,
  SUBSCRIPTION_FEATURES_HEADER,
  SUBSCRIPTION_MESSAGE_KINDS,
  type SubscriptionMessage,
  SubscriptionMessageSchema,
  safeParseSchema,
  UnauthorizedError,
  UnavailableError,
} from '@strata/core';

/** How the transport reads a body: one of core's protocol schemas, through `schemaOf`. */
type Schema<T> = (
  value: unknown,
) => { success: true; data: T } | { success: false; error: unknown };

/**
 * Parses with core's `safeParseSchema`: the schemas are zod/mini ones, and its issue messages
 * (kept in the `cause` of an unexpected body) are English without loading zod's locales.
 */
function schemaOf<TSchema extends Parameters<typeof safeParseSchema>[0]>(schema: TSchema) {
  return (value: unknown) => safeParseSchema(schema, value);
}

/** How the sync client reaches the server. */
export interface SyncTransportOptions {
  /** The sync API's base URL, e.g. `https://api.example.com/` (its `/v1/...` and `/v2/...` routes). */
  readonly url: string | URL;
  /** Defaults to the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** The bearer token for each request; undefined for none. Called before every request. */
  readonly token?: () => string | undefined | Promise<string | undefined>;
  /**
   * Called when the server answers 401; the request is retried once after it resolves (e.g. it
   * refreshed the token `token` returns).
   */
  readonly onUnauthorized?: () => void | Promise<void>;
}

/** The sync protocol's three calls, with every response validated and every failure typed. */
export interface SyncTransport {
  /**
   * `POST /v2/push`: commands with their predicted events; the answer carries the events the
   * server stored. A server that answers in an older protocol is an `INTERNAL` error.
   */
  push(request: CommandPushRequest, signal?: AbortSignal): Promise<CommandPushResponse>;
  /**
   * One page of the global order; `count` asks the server how many events remain after it, and
   * `anchor` (the last event this client received) has it check that its log still holds it
   * (`LOG_DIVERGED` otherwise). The page carries the server's log id when it sent one.
   */
  pull(
    after: string | undefined,
    limit: number,
    options?: {
      readonly count?: boolean;
      readonly anchor?: LogAnchor | undefined;
      readonly signal?: AbortSignal;
    },
  ): Promise<PullPage>;
  /**
   * `GET /v1/subscribe`: its messages until the stream ends, a `closing` message (yielded last:
   * the caller reconnects from its cursor), or `signal` aborts. Unknown kinds are skipped.
   */
  subscribe(after: string | undefined, signal: AbortSignal): AsyncIterable<SubscriptionMessage>;
  /**
   * `POST /v2/pull` (scoped sync): one page of the named scopes, each after its own cursor. A
   * scope the principal may not hold is a `FORBIDDEN` error naming it in `scopes`. `anchor` is
   * checked as on `pull` (`LOG_DIVERGED` when the server's log no longer holds it).
   */
  pullScopes(
    request: ScopedPullRequest,
    options?: { readonly anchor?: LogAnchor | undefined; readonly signal?: AbortSignal },
  ): Promise<ScopedPullResponse & { readonly logId?: string | undefined }>;
  /**
   * `GET /v2/subscribe` (scoped sync): the scopes' items after the one cursor they share, as
   * `subscribe` does for the whole tenant (ends after `closing`; unknown kinds are skipped),
   * each with its SSE id (see `ScopedStreamMessage`).
   */
  subscribeScopes(
    scopes: readonly string[],
    after: string | undefined,
    signal: AbortSignal,
  ): AsyncIterable<ScopedStreamMessage>;
  /**
   * `GET /v1/streams/:aggregateType/:aggregateId/events`: one page of an aggregate's history
   * from `fromVersion` (older history, on demand, of an aggregate started from a snapshot).
   */
  streamHistory(
    stream: StreamRef,
    fromVersion: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<StreamHistoryResponse>;
  /**
   * `GET /readyz`, without a token: whether the server answers at all (`up`: any answer below
   * 500, a 404 from a server without the route included) while the sync loops fail. Never throws.
   */
  ready(signal?: AbortSignal): Promise<ReadyAnswer>;
}

/** A pull page, with the identity of the log it comes from (absent from older servers). */
export type PullPage = PullResponse & { readonly logId?: string | undefined };

/** What `SyncTransport.ready` learnt, and the server's `Retry-After` when it is not up. */
export type ReadyAnswer =
  | { readonly up: true }
  | { readonly up: false; readonly retryAfterSeconds?: number | undefined };

/**
 * A `GET /v2/subscribe` message and its SSE id. One tenant position can carry several items
 * with one cursor (an event and the `left` of each scope it moved out of); the server gives
 * the id only to the last of them, so an item without one is not yet a place to resume from.
 */
export interface ScopedStreamMessage {
  readonly message: ScopedSubscriptionMessage;
  readonly id?: string;
}

/** Statuses that mean "not now" rather than "not this request". */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * The sync client's HTTP side. Network failures and gateway errors are `UNAVAILABLE` (retry
 * later); `application/problem+json` answers become the typed strata error they carry.
 *
 * @example
 * const transport = createSyncTransport({ url: 'https://api.example.com/', token: () => jwt });
 * const page = await transport.pull(undefined, 1000);
 */
export function createSyncTransport(options: SyncTransportOptions): SyncTransport {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = new URL(options.url);

  /** `refuse` may name the error a status means for this route (before the generic reading). */
  async function request(
    path: string,
    init: RequestInit,
    refuse: (status: number) => Error | undefined = () => undefined,
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const token = await options.token?.();
      const headers = new Headers(init.headers);
      if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
      let response: Response;
      try {
        response = await fetchImpl(new URL(path, base), { ...init, headers });
      } catch (error) {
        if (init.signal?.aborted === true) throw error;
        throw new UnavailableError(`The sync server could not be reached: ${messageOf(error)}`, {
          cause: error,
        });
      }
      if (response.ok) return response;
      if (response.status === 401 && attempt === 1 && options.onUnauthorized !== undefined) {
        await response.body?.cancel();
        await options.onUnauthorized();
        continue;
      }
      const refusal = refuse(response.status);
      if (refusal !== undefined) {
        await response.body?.cancel();
        throw refusal;
      }
      throw await errorOf(response);
    }
  }

  async function json<T>(response: Response, schema: Schema<T>, what: string): Promise<T> {
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new UnavailableError(`The ${what} response was cut off: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return parsed(body, schema, what);
  }

  return {
    async push(body, signal) {
      const response = await request(
        'v2/push',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          ...(signal === undefined ? {} : { signal }),
        },
        // A server from before protocol 2 has no such route: say so, not just "not found".
        (status) => (status === 404 ? olderProtocol('it has no /v2/push route') : undefined),
      );
      const answer = await json(response, ANY_BODY, 'push');
      const protocol = (answer as { protocol?: unknown } | null)?.protocol;
      if (protocol !== COMMAND_PROTOCOL_VERSION) {
        // A v1 answer ({ results } with positions) would otherwise read as a malformed body.
        throw typeof protocol === 'number' && protocol > COMMAND_PROTOCOL_VERSION
          ? new InternalError(
              `The sync server answered push in protocol ${protocol}; this client speaks ${COMMAND_PROTOCOL_VERSION}`,
            )
          : olderProtocol(`its push answer has no protocol ${COMMAND_PROTOCOL_VERSION}`);
      }
      return parsed(answer, PUSH_RESPONSE, 'push');
    },
    async ready(signal) {
      try {
        const response = await fetchImpl(new URL('readyz', base), {
          ...(signal === undefined ? {} : { signal }),
        });
        await response.body?.cancel();
        if (response.status < 500) return { up: true };
        return { up: false, retryAfterSeconds: retryAfterOf(response) };
      } catch {
        return { up: false };
      }
    },
    async pull(after, limit, { count = false, anchor, signal } = {}) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (after !== undefined) query.set('after', after);
      if (count) query.set('count', 'true');
      const response = await request(`v1/pull?${query}`, {
        ...(anchor === undefined
          ? {}
          : { headers: { [LOG_ANCHOR_HEADER]: formatLogAnchor(anchor) } }),
        ...(signal === undefined ? {} : { signal }),
      });
      const logId = response.headers.get(LOG_ID_HEADER) ?? undefined;
      const page = await json(response, PULL_RESPONSE, 'pull');
      return logId === undefined ? page : { ...page, logId };
    },
    async *subscribe(after, signal) {
      const response = await request('v1/subscribe', {
        headers: {
          // Optional kinds this client understands; the server sends them only when asked.
          [SUBSCRIPTION_FEATURES_HEADER]: 'closing',
          ...(after === undefined ? {} : { 'last-event-id': after }),
        },
        signal,
      });
      for await (const { message } of streamMessages(
        response,
        signal,
        SUBSCRIPTION_MESSAGE,
        SUBSCRIPTION_MESSAGE_KINDS,
      )) {
        yield message;
      }
    },
    async streamHistory(stream, fromVersion, limit, signal) {
      const type = encodeURIComponent(stream.aggregateType);
      const id = encodeURIComponent(stream.aggregateId);
      const query = new URLSearchParams({ fromVersion: String(fromVersion), limit: String(limit) });
      const response = await request(`v1/streams/${type}/${id}/events?${query}`, {
        ...(signal === undefined ? {} : { signal }),
      });
      return json(response, STREAM_HISTORY_RESPONSE, 'stream history');
    },
    async pullScopes(body, { anchor, signal } = {}) {
      const response = await request('v2/pull', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(anchor === undefined ? {} : { [LOG_ANCHOR_HEADER]: formatLogAnchor(anchor) }),
        },
        body: JSON.stringify(body),
        ...(signal === undefined ? {} : { signal }),
      });
      const logId = response.headers.get(LOG_ID_HEADER) ?? undefined;
      const page = await json(response, SCOPED_PULL_RESPONSE, 'scoped pull');
      return logId === undefined ? page : { ...page, logId };
    },
    async *subscribeScopes(scopes, after, signal) {
      const query = new URLSearchParams(scopes.map((scope) => ['scope', scope]));
      if (after !== undefined) query.set('after', after);
      const path = `v2/subscribe?${query}`;
      // Long keys go in the body: servers and proxies refuse long URLs (414/431, no problem).
      const response =
        path.length <= MAX_SUBSCRIBE_URL_LENGTH
          ? await request(path, { signal })
          : await request('v2/subscribe', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                scopes: [...scopes],
                ...(after === undefined ? {} : { after }),
              } satisfies ScopedSubscribeBody),
              signal,
            });
      yield* streamMessages(
        response,
        signal,
        SCOPED_SUBSCRIPTION_MESSAGE,
        SCOPED_SUBSCRIPTION_MESSAGE_KINDS,
      );
    },
  };
}

/** The longest `GET /v2/subscribe` path sent; longer scope sets go in a `POST` body. */
const MAX_SUBSCRIBE_URL_LENGTH = 4096;

/** The kinds of `GET /v2/subscribe` messages this client reads. */
const SCOPED_SUBSCRIPTION_MESSAGE_KINDS: readonly string[] =
  ScopedSubscriptionMessageSchema._zod.def.options.flatMap(
    (option) => option.shape.kind._zod.def.values,
  );

const PUSH_RESPONSE = schemaOf(CommandPushResponseSchema);
const PULL_RESPONSE = schemaOf(PullResponseSchema);
const SUBSCRIPTION_MESSAGE = schemaOf(SubscriptionMessageSchema);
const STREAM_HISTORY_RESPONSE = schemaOf(StreamHistoryResponseSchema);
const SCOPED_PULL_RESPONSE = schemaOf(ScopedPullResponseSchema);
const SCOPED_SUBSCRIPTION_MESSAGE = schemaOf(ScopedSubscriptionMessageSchema);

/**
 * The messages of a server-sent event stream with their SSE ids, validated by `schema`: kinds
 * not in `known` are a newer server's and skipped; after `closing` the stream ends (the server
 * closes it).
 */
async function* streamMessages<T extends { readonly kind: string }>(
  response: Response,
  signal: AbortSignal,
  schema: Schema<T>,
  known: readonly string[],
): AsyncIterable<{ readonly message: T; readonly id?: string }> {
  if (response.body === null) throw new UnavailableError('The subscription has no body');
  try {
    for await (const message of readServerSentEvents(response.body)) {
      const data = safeJsonParse(message.data);
      const parsed = schema(data);
      if (!parsed.success) {
        if (isUnknownKind(data, known)) continue; // a newer server's message: not for this client
        throw new InternalError('The server sent an unexpected subscription message', {
          cause: parsed.error,
        });
      }
      yield { message: parsed.data, ...(message.id === undefined ? {} : { id: message.id }) };
      // The server ends the stream after `closing` (e.g. this client read too slowly):
      // reconnect now from the last event's cursor rather than wait for the end.
      if (parsed.data.kind === 'closing') return;
    }
  } catch (error) {
    if (signal.aborted || isStrataError(error)) throw error;
    throw new UnavailableError(`The subscription was cut: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Accepts any JSON body (the push answer's protocol is checked before its shape). */
const ANY_BODY: Schema<unknown> = (value) => ({ success: true, data: value });

function parsed<T>(body: unknown, schema: Schema<T>, what: string): T {
  const result = schema(body);
  if (!result.success) {
    throw new InternalError(`The server answered ${what} with an unexpected body`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The server cannot take protocol 2 pushes: retrying will not help until it is upgraded. */
function olderProtocol(why: string): InternalError {
  return new InternalError(
    `The sync server speaks an older protocol (${why}): this client pushes protocol ${COMMAND_PROTOCOL_VERSION}; upgrade the server`,
  );
}

async function errorOf(response: Response): Promise<Error> {
  const text = await response.text().catch(() => '');
  const body = safeJsonParse(text);
  const isProblem = body !== undefined && typeof (body as { code?: unknown }).code === 'string';
  if (isProblem) return fromProblemDetails(body);
  if (response.status === 401) return new UnauthorizedError();
  // A proxy or gateway in front of the server may answer 429/503 without a problem body; its
  // Retry-After header still counts.
  const retryAfterSeconds = retryAfterOf(response);
  if (response.status === 429) {
    return new RateLimitedError('The sync server is rate limiting', retryAfterSeconds ?? 1);
  }
  if (UNAVAILABLE_STATUSES.has(response.status)) {
    return new UnavailableError(
      `The sync server answered ${response.status}`,
      retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
    );
  }
  return new InternalError(`The sync server answered ${response.status}`, { cause: text });
}

/** A `Retry-After` in seconds; an HTTP date is read as "no advice". */
function retryAfterOf(response: Response): number | undefined {
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
}

function isUnknownKind(data: unknown, known: readonly string[]): boolean {
  const kind = (data as { kind?: unknown } | null | undefined)?.kind;
  return typeof kind === 'string' && !known.includes(kind);
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
