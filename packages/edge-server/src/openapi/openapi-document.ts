/**
 * The OpenAPI 3.1 description of the sync protocol, generated from the route table and the
 * shared zod schemas with zod's own JSON Schema conversion (draft 2020-12, the dialect of
 * OpenAPI 3.1): nothing in it is written by hand but the words. Requests are described as zod
 * reads them (`io: 'input'`: a query's `limit` is text, defaults are optional), answers as the
 * server writes them (`io: 'output'`). `pnpm openapi` writes it to docs/openapi.json; the app
 * serves it at `GET /openapi.json`.
 */
import {
  COMMAND_PROTOCOL_VERSION,
  CommitSchema,
  CursorSchema,
  type ErrorCode,
  LOG_ANCHOR_HEADER,
  LOG_ID_HEADER,
  NameSchema,
  PROBLEM_JSON,
  ScopeKeySchema,
  StrataError,
  SUBSCRIPTION_FEATURES_HEADER,
  toProblemDetails,
  WireCommandSchema,
} from '@strata/core';
import * as zc from 'zod/v4/core';
import { REQUEST_ID_HEADER } from '../observability/request-id.ts';
import { ProblemSchema } from './problem-schema.ts';
import { OPENAPI_ROUTES, type RouteDescription } from './route-table.ts';
import { WireEventSchema } from './wire-schemas.ts';

/** A JSON Schema or OpenAPI object, as plain JSON. */
type Json = Record<string, unknown>;

/** The path a Hono app registers for an OpenAPI path template: `{name}` is `:name`. */
export function honoPathOf(path: string): string {
  return path.replaceAll(/\{([^}]+)\}/g, ':$1');
}

/** The HTTP status a problem code is answered with (core's mapping). */
export function statusOfCode(code: ErrorCode): number {
  return toProblemDetails(new StrataError(code, code)).status;
}

/** An object schema's shape, through zod's core definition (classic and mini schemas alike). */
function shapeOf(schema: unknown): Record<string, zc.$ZodType> {
  return (schema as zc.$ZodObject)._zod.def.shape;
}

/** The event envelope on the wire, as core's commit holds it. */
const EventEnvelopeSchema = (shapeOf(CommitSchema).events as unknown as zc.$ZodArray)._zod.def
  .element;

const EVENT_SHAPE = shapeOf(WireEventSchema);

/**
 * Components shared by requests and answers, named as core names them (less `Schema`), with
 * what JSON Schema cannot say of their refinements (a KSUID is checked by code).
 */
const SHARED: readonly (readonly [string, zc.$ZodType, Json?])[] = [
  ['Name', NameSchema],
  [
    'Cursor',
    CursorSchema,
    { description: 'An opaque cursor into the log: pass it back as it came.' },
  ],
  ['ScopeKey', ScopeKeySchema, { description: 'A scope key: `name` or `name:{"param":"value"}`.' }],
  [
    'EventId',
    EVENT_SHAPE.id as zc.$ZodType,
    { description: 'A KSUID.', pattern: '^[0-9A-Za-z]{27}$' },
  ],
  ['Timestamp', EVENT_SHAPE.recordedAt as zc.$ZodType],
];

/** Request components: the bodies, by their core names, and what they are made of. */
const REQUEST_NAMES: readonly (readonly [string, string])[] = [
  ['push', 'PushRequest'],
  ['commandPush', 'CommandPushRequest'],
  ['executeCommand', 'CommandRequest'],
  ['scopedPull', 'ScopedPullRequest'],
  ['scopedSubscribeByBody', 'ScopedSubscribeBody'],
  ['createConsumerGroup', 'CreateConsumerGroupRequest'],
  ['claimEvents', 'ClaimRequest'],
  ['ackEvents', 'AckRequest'],
  ['nackEvent', 'NackRequest'],
  ['leaveConsumerGroup', 'LeaveRequest'],
];

/** Answer components by the operation that first answers them. */
const ANSWER_NAMES: readonly (readonly [string, string])[] = [
  ['health', 'HealthResponse'],
  ['readiness', 'ReadinessResponse'],
  ['push', 'PushResponse'],
  ['pull', 'PullResponse'],
  ['subscribe', 'SubscriptionMessage'],
  ['streamMetadata', 'StreamMetadata'],
  ['streamHistory', 'StreamHistoryResponse'],
  ['forgetAggregate', 'ForgetResponse'],
  ['createConsumerGroup', 'ConsumerGroupStatus'],
  ['claimEvents', 'ClaimResponse'],
  ['ackEvents', 'AckResponse'],
  ['nackEvent', 'NackResponse'],
  ['leaveConsumerGroup', 'LeaveResponse'],
  ['listParkedEvents', 'ParkedListResponse'],
  ['replayParkedEvent', 'ReplayResponse'],
  ['discardParkedEvent', 'DiscardResponse'],
  ['commandPush', 'CommandPushResponse'],
  ['executeCommand', 'CommandAnswer'],
  ['scopedPull', 'ScopedPullResponse'],
  ['scopedSubscribe', 'ScopedSubscriptionMessage'],
];

/** Parameter objects are components only while converting; their properties become parameters. */
const PARAMETERS_PREFIX = 'Parameters.';

type Registry = zc.$ZodRegistry<{ id: string }>;

/** Registers `schema` as `id` unless it is registered already; answers the id it has. */
function register(registry: Registry, schema: zc.$ZodType, id: string): string {
  const known = registry.get(schema)?.id;
  if (known !== undefined) return known;
  registry.add(schema, { id });
  return id;
}

/** JSON Schema keywords added to what zod makes of a shared schema (`SHARED`'s third column). */
const KEYWORDS = new Map<zc.$ZodType, Json>(
  SHARED.flatMap(([, schema, more]) => (more === undefined ? [] : [[schema, more] as const])),
);

/** Every schema of `registry` as JSON Schema, each pointing at the others' components. */
function convert(registry: Registry, io: 'input' | 'output'): Record<string, Json> {
  const { schemas } = zc.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    cycles: 'ref',
    reused: 'inline',
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      const more = KEYWORDS.get(zodSchema);
      if (more !== undefined) Object.assign(jsonSchema, more);
    },
  }) as { schemas: Record<string, Json> };
  // A component is not a schema document of its own: the dialect is the document's.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** The route's parameters of one kind (`path`, `query`), one per property of its object schema. */
function parametersOf(schema: Json | undefined, place: 'path' | 'query'): Json[] {
  if (schema === undefined) return [];
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    const isList = JSON.stringify(rest).includes('"type":"array"');
    return {
      name,
      in: place,
      required: place === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
      ...(isList ? { style: 'form', explode: true } : {}),
    };
  });
}

const REQUEST_HEADER_PARAMETERS: Record<string, Json> = {
  'strata-anchor': {
    name: LOG_ANCHOR_HEADER,
    in: 'header',
    required: false,
    description:
      'The last event the client received, as `<position>:<event id>`: a log that no longer holds it answers 409 `LOG_DIVERGED`. A malformed anchor is ignored.',
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,15}:[0-9A-Za-z]{27}$' },
  },
  'last-event-id': {
    name: 'last-event-id',
    in: 'header',
    required: false,
    description: "A reconnecting EventSource's last event id (a cursor): wins over `after`.",
    schema: ref('Cursor'),
  },
  'if-none-match': {
    name: 'if-none-match',
    in: 'header',
    required: false,
    description: 'The `ETag` of a full page read before: the same page again is 304 with no body.',
    schema: { type: 'string', maxLength: 1000 },
  },
  'strata-subscription-features': {
    name: SUBSCRIPTION_FEATURES_HEADER,
    in: 'header',
    required: false,
    description:
      'Optional messages the client understands, comma-separated: `closing` (a `closing` message, reason `slow-reader`) and `access-changed` (reason `access-changed`, only with `closing`).',
    schema: { type: 'string', maxLength: 200 },
  },
};

/** The answers of one route: its success, then one per problem status, then any other problem. */
function responsesOf(route: RouteDescription, answerId: string | undefined): Json {
  const requestId = { [REQUEST_ID_HEADER]: { $ref: '#/components/headers/RequestId' } };
  const { answer } = route;
  const success: Json = {
    description: answer.description,
    headers: {
      ...requestId,
      ...(route.logId === true ? { [LOG_ID_HEADER]: { $ref: '#/components/headers/LogId' } } : {}),
      ...(route.revalidated === true ? CACHE_HEADERS : {}),
    },
    content:
      answer.kind === 'json'
        ? { 'application/json': { schema: ref(answerId as string) } }
        : answer.kind === 'events'
          ? {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description: `Server-Sent Events: \`id\` (a cursor) and one \`data\` line of JSON, a \`${answerId}\`.`,
                },
                'x-strata-message': ref(answerId as string),
              },
            }
          : answer.kind === 'text'
            ? { [answer.mediaType]: { schema: { type: 'string' } } }
            : {
                'application/json': {
                  schema: { type: 'object', description: 'An OpenAPI 3.1 document' },
                },
              },
  };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(route.problems)) {
    const status = statusOfCode(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const problems = [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, codes]) => [
      String(status),
      {
        description: codes.join(', '),
        headers: {
          ...requestId,
          ...(status === 429 || status === 503
            ? { 'retry-after': { $ref: '#/components/headers/RetryAfter' } }
            : {}),
        },
        content: {
          [PROBLEM_JSON]: {
            schema: { allOf: [ref('Problem'), { properties: { code: { enum: codes } } }] },
          },
        },
      },
    ]);
  return {
    '200': success,
    ...(route.revalidated === true
      ? {
          '304': {
            description: '`If-None-Match` names the page: the client has it already (no body).',
            headers: { ...requestId, ...CACHE_HEADERS },
          },
        }
      : {}),
    ...Object.fromEntries(problems),
    default: {
      description: 'Any other problem, e.g. `NOT_FOUND` for a path the server does not serve.',
      headers: requestId,
      content: { [PROBLEM_JSON]: { schema: ref('Problem') } },
    },
  };
}

/** The headers of a settled pull page (pull-cache.ts). */
const CACHE_HEADERS = {
  etag: { $ref: '#/components/headers/ETag' },
  'cache-control': { $ref: '#/components/headers/CacheControl' },
  vary: { $ref: '#/components/headers/Vary' },
};

const SECURITY = {
  bearer: [{ bearerAuth: [] }],
  metrics: [{ metricsSecret: [] }],
  none: [],
} as const;

/**
 * The OpenAPI 3.1 document of every route in `routes` (defaults to the app's), generated from
 * their zod schemas. Throws when a schema cannot be converted, or when one component name would
 * describe a request and an answer differently.
 *
 * @example
 * writeFileSync('docs/openapi.json', `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
 */
export function buildOpenApiDocument(routes: readonly RouteDescription[] = OPENAPI_ROUTES): Json {
  const requests: Registry = zc.registry<{ id: string }>();
  const answers: Registry = zc.registry<{ id: string }>();
  for (const [id, schema] of SHARED) {
    register(requests, schema, id);
    register(answers, schema, id);
  }
  register(requests, EventEnvelopeSchema, 'EventEnvelope');
  register(requests, WireCommandSchema, 'WireCommand');
  register(answers, WireEventSchema, 'StoredEvent');
  register(answers, ProblemSchema, 'Problem');
  const requestNames = new Map(REQUEST_NAMES);
  const answerNames = new Map(ANSWER_NAMES);

  const ids = routes.map((route) => {
    const { operationId } = route;
    const named = (names: Map<string, string>, suffix: string) =>
      names.get(operationId) ??
      `${operationId.charAt(0).toUpperCase()}${operationId.slice(1)}${suffix}`;
    const answer =
      route.answer.kind === 'json'
        ? register(answers, route.answer.schema, named(answerNames, 'Response'))
        : route.answer.kind === 'events'
          ? register(answers, route.answer.message, named(answerNames, 'Message'))
          : undefined;
    return {
      path:
        route.pathParams &&
        register(requests, route.pathParams, `${PARAMETERS_PREFIX}${operationId}.path`),
      query:
        route.query && register(requests, route.query, `${PARAMETERS_PREFIX}${operationId}.query`),
      body: route.body && register(requests, route.body.schema, named(requestNames, 'Request')),
      answer,
    };
  });

  const requestSchemas = convert(requests, 'input');
  const answerSchemas = convert(answers, 'output');
  for (const [id, schema] of Object.entries(answerSchemas)) {
    const asRequest = requestSchemas[id];
    if (asRequest !== undefined && JSON.stringify(asRequest) !== JSON.stringify(schema)) {
      throw new Error(`The component ${id} reads differently as a request and as an answer`);
    }
  }

  const paths: Record<string, Record<string, Json>> = {};
  routes.forEach((route, index) => {
    const id = ids[index] as (typeof ids)[number];
    const operation: Json = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: route.description,
      security: SECURITY[route.auth],
      parameters: [
        ...parametersOf(id.path === undefined ? undefined : requestSchemas[id.path], 'path'),
        ...parametersOf(id.query === undefined ? undefined : requestSchemas[id.query], 'query'),
        ...(route.requestHeaders ?? []).map((header) => REQUEST_HEADER_PARAMETERS[header]),
        { $ref: '#/components/parameters/RequestId' },
      ],
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: route.body.required,
              content: { 'application/json': { schema: ref(id.body as string) } },
            },
          }),
      responses: responsesOf(route, id.answer),
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  });

  const schemas = Object.fromEntries(
    Object.entries({ ...requestSchemas, ...answerSchemas })
      .filter(([id]) => !id.startsWith(PARAMETERS_PREFIX))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'strata sync server',
      version: String(COMMAND_PROTOCOL_VERSION),
      description:
        "The HTTP protocol of strata's sync server (`createSyncApp`): protocol v1 (`/v1/push`, `/v1/pull`, `/v1/subscribe`), v2 (command pushes, server commands, scoped sync), stream reads, consumer groups and the probes. Generated from the shared zod schemas (`pnpm openapi`); do not edit. Every answer carries `x-request-id`; every error is `application/problem+json` with a `code`. Everything under `/v1` and `/v2` is in the principal's tenant, which comes from its token only.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A tenant's token, checked by the app's `authenticate` (`jwtAuthentication`: HMAC or JWKS-verified JWTs). A single-tenant server (`singleTenant`) needs none.",
        },
        metricsSecret: {
          type: 'http',
          scheme: 'bearer',
          description: "The metrics secret (`metrics.token`), not a tenant's token.",
        },
      },
      parameters: {
        RequestId: {
          name: REQUEST_ID_HEADER,
          in: 'header',
          required: false,
          description:
            "The caller's own request id, kept when it is 1 to 64 characters of `A-Za-z0-9._:-` (else a new one is made).",
          schema: { type: 'string', maxLength: 64 },
        },
      },
      headers: {
        RequestId: {
          description:
            "The request's id, also in its log line and in a problem body's `requestId`.",
          required: true,
          schema: { type: 'string' },
        },
        ETag: {
          description:
            "A full page's strong ETag (a hash of its exact body); absent on a page that may still grow.",
          schema: { type: 'string' },
        },
        CacheControl: {
          description:
            '`private, no-cache` on a full page: a cache must revalidate it (the same URL means another page after a restore).',
          schema: { type: 'string' },
        },
        Vary: {
          description:
            "On a full page: `Authorization, strata-anchor` (the page is one principal's).",
          schema: { type: 'string' },
        },
        LogId: {
          description:
            "The identity of the server's log: another id than the one a client synced with means a reset or replaced database (re-bootstrap).",
          schema: { type: 'string' },
        },
        RetryAfter: {
          description: 'Seconds to wait before trying again.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
      },
    },
  };
}
