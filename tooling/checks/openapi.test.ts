import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Validator } from '@seriousme/openapi-schema-validator';
import * as core from '@strata/core';
import { StrataError } from '@strata/core';
import { createSyncApp, pgliteDatabase, type SyncApp } from '@strata/edge-server';
import {
  buildOpenApiDocument,
  COMMIT_RESULT_CODES,
  honoPathOf,
  OPENAPI_ROUTES,
  statusOfCode,
} from '@strata/edge-server/openapi';
import { Todo } from '@strata/example-todo';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedOpenApi, generatedOpenApiText } from '../openapi/openapi-file.ts';
import { createMigratedPglite } from '../pglite/test-pglite.ts';
import { commit, todoEvent } from '../sync/sync-client.ts';
import { productFiles, ROOT } from './source-graph.ts';

type Json = Record<string, unknown>;
type Operation = { responses: Record<string, Json> };

const document = committedOpenApi() as Json & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};
const METRICS_TOKEN = 'metrics-secret-0123456789';
/** The value at `keys` inside `value` (undefined where a key is missing). */
function dig(value: unknown, ...keys: (string | number)[]): unknown {
  return keys.reduce<unknown>(
    (at, key) => (typeof at === 'object' && at !== null ? (at as Json)[key] : undefined),
    value,
  );
}
/** The problem codes the committed document lists: one variant of `Problem` each. */
const problemVariants = dig(document, 'components', 'schemas', 'Problem', 'oneOf') as Json[];
const problemEnum = {
  enum: problemVariants.map((variant) => dig(variant, 'properties', 'code', 'const') as string),
};

/** `METHOD path` of every route the table describes, as Hono registers it. */
const described = new Set(
  OPENAPI_ROUTES.map((route) => `${route.method.toUpperCase()} ${honoPathOf(route.path)}`),
);

describe('docs/openapi.json', () => {
  it('is what the generator makes of the routes and schemas now', () => {
    // Compared as data: the file is the generator's text, but a formatter may re-indent it.
    expect(
      JSON.parse(generatedOpenApiText()),
      'docs/openapi.json is stale: run pnpm openapi',
    ).toEqual(document);
  });

  it('validates as OpenAPI 3.1 with a standard validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every path the table holds, and only those', () => {
    const inDocument = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${honoPathOf(path)}`),
    );
    expect(new Set(inDocument)).toEqual(described);
    expect(inDocument).toHaveLength(described.size);
  });

  it('answers every problem status with the codes of that status', () => {
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400 || status === 'default') continue; // 200, 304
          const codes = dig(
            response,
            'content',
            'application/problem+json',
            'schema',
            'allOf',
            1,
            'properties',
            'code',
            'enum',
          ) as string[];
          for (const code of codes) {
            expect(problemEnum.enum).toContain(code);
            expect([code, statusOfCode(code as never)]).toEqual([code, Number(status)]);
          }
        }
      }
    }
  });

  it('lists every problem code the server can raise', () => {
    // Every strata error class the product code throws, and the code an instance of it has.
    const thrown = new Set<string>();
    for (const file of productFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/new ([A-Z][A-Za-z]+Error)\(/g)) {
        thrown.add(match[1] as string);
      }
    }
    const codes = new Set<string>();
    for (const name of thrown) {
      const code = strataCodeOf(name);
      if (code !== undefined) codes.add(code);
    }
    expect(codes.size).toBeGreaterThan(15);
    const answered = new Set([
      ...OPENAPI_ROUTES.flatMap((route) => route.problems),
      ...COMMIT_RESULT_CODES,
    ]);
    expect([...codes].filter((code) => !problemEnum.enum.includes(code))).toEqual([]);
    expect([...codes].filter((code) => !answered.has(code as never))).toEqual([]);
  });

  it("describes each code's members as its error class gives them", () => {
    expect(new Set(problemEnum.enum).size).toBe(problemVariants.length);
    for (const [name, exported] of Object.entries(core)) {
      const error = strataErrorOf(name, exported);
      if (error === undefined) continue;
      const variant = problemVariants.find(
        (entry) => dig(entry, 'properties', 'code', 'const') === error.code,
      );
      expect(variant, `${name}'s code ${error.code}`).toBeDefined();
      const described = Object.keys(dig(variant, 'properties') as Json);
      const members = Object.keys(error.details());
      expect([name, members.filter((key) => !described.includes(key))]).toEqual([name, []]);
    }
  });

  it('is served by the app at GET /openapi.json, without authentication', async () => {
    const pglite = await createMigratedPglite();
    const app = createSyncApp({
      database: pgliteDatabase(pglite),
      authenticate: () => {
        throw new Error('the description needs no principal');
      },
    });
    try {
      const response = await app.request('/openapi.json');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual(buildOpenApiDocument());
    } finally {
      await app.close();
      await pglite.close();
    }
  });
});

/** The code of the strata error class `name` exports, or undefined for any other error. */
function strataCodeOf(name: string): string | undefined {
  return strataErrorOf(name, (core as Record<string, unknown>)[name])?.code;
}

/** An instance of `exported` when it is a strata error class (with made-up arguments). */
function strataErrorOf(name: string, exported: unknown): StrataError | undefined {
  if (typeof exported !== 'function' || !(exported.prototype instanceof StrataError)) {
    return undefined;
  }
  const Class = exported as new (...args: unknown[]) => StrataError;
  const stream = { aggregateType: 'A', aggregateId: 'a' };
  for (const args of [
    ['x', 'x', 'x'],
    [stream, 1, 1],
    ['x', [], {}],
    [1, 'x'],
  ]) {
    try {
      return new Class(...args);
    } catch {
      // Another signature: try the next arguments.
    }
  }
  throw new Error(`cannot make a ${name} to read its code`);
}

describe('a created app', () => {
  let pglite: PGlite;
  let app: SyncApp;

  beforeAll(async () => {
    pglite = await createMigratedPglite();
    app = createSyncApp({
      database: pgliteDatabase(pglite),
      authenticate: () => ({ tenant: 'tenant-a', subject: 'user-1' }),
      aggregates: [Todo],
      metrics: { token: METRICS_TOKEN },
      rateLimits: false,
    });
  });
  afterAll(async () => {
    await app.close();
    await pglite.close();
  });

  it('registers exactly the routes the document describes', () => {
    const registered = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL') // middleware (`app.use`)
        .map((route) => `${route.method} ${route.path}`),
    );
    expect([...registered].filter((route) => !described.has(route))).toEqual([]);
    expect([...described].filter((route) => !registered.has(route))).toEqual([]);
  });

  it('answers every route as the document says', async () => {
    const wire = describedWire(document);
    const seen = new Set<string>();
    const call = async (method: string, path: string, template: string, body?: unknown) => {
      const response = await app.request(path, {
        method,
        headers: {
          authorization: `Bearer ${template === '/metrics' ? METRICS_TOKEN : 'any'}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const answer = await wire.check(method, template, response);
      seen.add(`${method} ${template}`);
      return { status: response.status, body: answer as Json };
    };

    expect((await call('GET', '/healthz', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz', '/readyz')).status).toBe(200);
    expect((await call('GET', '/metrics', '/metrics')).status).toBe(200);
    const refused = await app.request('/metrics');
    expect(refused.status).toBe(401);
    await wire.check('GET', '/metrics', refused);
    expect((await call('GET', '/openapi.json', '/openapi.json')).status).toBe(200);

    // v1: a decided aggregate's events without their command are a rejected commit.
    const v1 = await call('POST', '/v1/push', '/v1/push', {
      clientId: 'device-1',
      commits: [commit('v1-c1', todoEvent('t1', 1))],
    });
    expect(v1.body.results).toMatchObject([{ status: 'rejected', code: 'COMMAND_REQUIRED' }]);
    const added = todoEvent('t1', 1, 'TodoAdded', { title: 'milk' });
    const v2 = await call('POST', '/v2/push', '/v2/push', {
      protocol: 2,
      clientId: 'device-1',
      commits: [
        {
          commitId: 'cmd-1',
          command: {
            aggregateType: 'Todo',
            aggregateId: 't1',
            name: 'add',
            input: { title: 'milk' },
            issuedAt: new Date().toISOString(),
          },
          events: [added],
        },
      ],
    });
    expect(v2.body.results).toMatchObject([{ status: 'accepted' }]);
    const refusedPush = await call('POST', '/v2/push', '/v2/push', {
      protocol: 1,
      clientId: 'device-1',
      commits: [{ commitId: 'x' }],
    });
    expect(refusedPush.body.code).toBe('UNSUPPORTED_PROTOCOL');
    const executed = await call('POST', '/v2/commands', '/v2/commands', {
      aggregateType: 'Todo',
      aggregateId: 't1',
      name: 'complete',
      input: {},
    });
    expect(executed.body.events).toHaveLength(1);
    const conflict = await call('POST', '/v2/commands', '/v2/commands', {
      aggregateType: 'Todo',
      aggregateId: 't1',
      name: 'add',
      input: { title: 'again' },
    });
    expect(conflict.body.code).toBe('DOMAIN_RULE_VIOLATED');

    const pulled = await call('GET', '/v1/pull?count=true', '/v1/pull');
    expect(pulled.body.events).toHaveLength(2);
    // A full page is revalidated: its ETag again is a 304 with no body, as described.
    const page = await app.request('/v1/pull?limit=1', {
      headers: { authorization: 'Bearer any' },
    });
    const etag = page.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    expect(page.headers.get('strata-log-id')).not.toBeNull();
    await wire.check('GET', '/v1/pull', page);
    const again = await app.request('/v1/pull?limit=1', {
      headers: { authorization: 'Bearer any', 'if-none-match': etag ?? '' },
    });
    expect(again.status).toBe(304);
    expect(await wire.check('GET', '/v1/pull', again)).toBeUndefined();
    expect((await call('GET', '/v1/pull?limit=0', '/v1/pull')).body.code).toBe('VALIDATION_FAILED');
    expect((await call('GET', '/v1/pull?after=zzz', '/v1/pull')).body.code).toBe('INVALID_CURSOR');
    const scoped = await call('POST', '/v2/pull', '/v2/pull', { scopes: [{ scope: 'tenant' }] });
    expect(scoped.status).toBe(200);
    expect(scoped.body.items).toHaveLength(2);

    const streams = '/v1/streams/{aggregateType}/{aggregateId}';
    expect((await call('GET', '/v1/streams/Todo/t1', streams)).body.version).toBe(2);
    expect((await call('GET', '/v1/streams/Todo/nope', streams)).body.code).toBe(
      'AGGREGATE_NOT_FOUND',
    );
    const history = await call('GET', '/v1/streams/Todo/t1/events?limit=1', `${streams}/events`);
    expect(history.body).toMatchObject({ hasMore: true, nextVersion: 2 });
    const forgotten = await call('DELETE', '/v1/streams/Todo/t1/key', `${streams}/key`);
    expect(forgotten.body.forgotten).toBe(false);

    const group = '/v1/groups/{group}';
    expect((await call('PUT', '/v1/groups/mailer', group)).status).toBe(200);
    expect((await call('GET', '/v1/groups/mailer', group)).body.lag).toBe(2);
    expect((await call('GET', '/v1/groups/nobody', group)).body.code).toBe('NOT_FOUND');
    const claim = await call('POST', '/v1/groups/mailer/claim', `${group}/claim`, {
      consumerId: 'worker-1',
      limit: 1,
    });
    const [batch] = claim.body.partitions as {
      partition: number;
      from: string;
      until: string;
      events: { id: string }[];
    }[];
    expect(batch?.events).toHaveLength(1);
    const nack = await call('POST', '/v1/groups/mailer/nack', `${group}/nack`, {
      consumerId: 'worker-1',
      partition: batch?.partition,
      from: batch?.from,
      eventId: batch?.events[0]?.id,
      error: 'the mail server said no',
    });
    expect(nack.body.outcome).toBe('retry');
    const ack = await call('POST', '/v1/groups/mailer/ack', `${group}/ack`, {
      consumerId: 'worker-1',
      partitions: [{ partition: batch?.partition, from: batch?.from, to: batch?.until }],
    });
    expect(ack.body.acked).toEqual([batch?.partition]);
    const parked = await call('GET', '/v1/groups/mailer/parked?limit=5', `${group}/parked`);
    expect(parked.body.parked).toEqual([]);
    const replay = `${group}/parked/{id}/replay`;
    expect((await call('POST', '/v1/groups/mailer/parked/7/replay', replay)).status).toBe(404);
    expect(
      (await call('DELETE', '/v1/groups/mailer/parked/7', `${group}/parked/{id}`)).status,
    ).toBe(404);
    const left = await call('POST', '/v1/groups/mailer/leave', `${group}/leave`, {
      consumerId: 'worker-1',
    });
    expect(left.body.left).toBe(true);

    // The live routes: their messages up to `caught-up`, each one checked.
    const v1Messages = await wire.events(
      'GET',
      '/v1/subscribe',
      await app.request('/v1/subscribe', { headers: { authorization: 'Bearer any' } }),
    );
    expect(v1Messages.map((message) => message.kind)).toEqual(['event', 'event', 'caught-up']);
    seen.add('GET /v1/subscribe');
    const v2Messages = await wire.events(
      'GET',
      '/v2/subscribe',
      await app.request('/v2/subscribe?scope=tenant', { headers: { authorization: 'Bearer any' } }),
    );
    expect(v2Messages.at(-1)?.kind).toBe('caught-up');
    seen.add('GET /v2/subscribe');
    const byBody = await app.request('/v2/subscribe', {
      method: 'POST',
      headers: { authorization: 'Bearer any', 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['tenant'] }),
    });
    expect((await wire.events('POST', '/v2/subscribe', byBody)).at(-1)?.kind).toBe('caught-up');
    seen.add('POST /v2/subscribe');
    const badSubscribe = await call('GET', '/v1/subscribe?after=zzz', '/v1/subscribe');
    expect(badSubscribe.body.code).toBe('INVALID_CURSOR');

    // An unknown route is the document's `default` problem.
    const missing = await app.request('/v3/nothing');
    expect(await wire.check('GET', '/healthz', missing)).toMatchObject({ code: 'NOT_FOUND' });

    expect(
      OPENAPI_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`).filter(
        (route) => !seen.has(route),
      ),
    ).toEqual([]);
  });

  it('refuses a hostile body with a problem the document lists, storing nothing', async () => {
    const wire = describedWire(document);
    const before = await eventCount(pglite);
    const response = await app.request('/v1/push', {
      method: 'POST',
      headers: { authorization: 'Bearer any', 'content-type': 'text/plain' },
      body: JSON.stringify({ clientId: 'x', commits: [commit('c', todoEvent('t9', 1))] }),
    });
    expect(response.status).toBe(415);
    expect(await wire.check('POST', '/v1/push', response)).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    const forged = await app.request('/v2/commands', {
      method: 'POST',
      headers: { authorization: 'Bearer any', 'content-type': 'application/json' },
      body: '{"aggregateType":"Todo","aggregateId":"t9","name":"add","input":{"__proto__":{}}}',
    });
    expect(await wire.check('POST', '/v2/commands', forged)).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await eventCount(pglite)).toBe(before);
  });
});

async function eventCount(pglite: PGlite): Promise<number> {
  const { rows } = await pglite.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM strata_events',
  );
  return rows[0]?.count ?? -1;
}

/**
 * Checks answers against the document's own JSON Schemas (ajv, draft 2020-12): the status is one
 * the operation lists (else its `default`), the media type one it names, the body valid.
 */
function describedWire(openapi: Json) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const base = 'https://strata.invalid/openapi.json';
  ajv.addSchema({ ...openapi, $id: base });
  const pointer = (...tokens: string[]) =>
    tokens
      .map((token) => encodeURIComponent(token.replaceAll('~', '~0').replaceAll('/', '~1')))
      .join('/');
  const operationOf = (method: string, template: string) => {
    const operation = (openapi.paths as Record<string, Record<string, Operation>>)[template]?.[
      method.toLowerCase()
    ];
    if (operation === undefined) throw new Error(`${method} ${template} is not described`);
    return operation;
  };
  const validate = (where: string, value: unknown) => {
    const check = ajv.compile({ $ref: `${base}#/${where}` });
    if (!check(value)) {
      throw new Error(
        `${where}: ${JSON.stringify(check.errors?.slice(0, 3))}: ${JSON.stringify(value).slice(0, 400)}`,
      );
    }
  };
  const responseOf = (method: string, template: string, response: Response) => {
    expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    const { responses } = operationOf(method, template);
    const status = String(response.status) in responses ? String(response.status) : 'default';
    const described = responses[status] as Json;
    // Every header the document says is always there (`required`) is.
    for (const [header, entry] of Object.entries(
      (described.headers ?? {}) as Record<string, Json>,
    )) {
      const target = String(entry.$ref ?? '')
        .replace('#/', '')
        .split('/');
      if (dig(openapi, ...target, 'required') !== true) continue;
      expect(response.headers.get(header), `${method} ${template} sends ${header}`).not.toBeNull();
    }
    if (described.content === undefined) {
      return { where: undefined, mediaType: undefined };
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const content = described.content as Record<string, Json>;
    const named = Object.keys(content).find((key) => key.split(';')[0]?.trim() === mediaType);
    expect(named, `${method} ${template} ${status} names ${mediaType}`).toBeDefined();
    return {
      where: pointer(
        'paths',
        template,
        method.toLowerCase(),
        'responses',
        status,
        'content',
        named as string,
      ),
      mediaType,
    };
  };
  return {
    /** The answer's body, once it is valid against what the document says of it. */
    async check(method: string, template: string, response: Response): Promise<unknown> {
      const { where, mediaType } = responseOf(method, template, response);
      if (where === undefined || mediaType === undefined) {
        expect(await response.text(), `${method} ${template} ${response.status} has no body`).toBe(
          '',
        );
        return undefined;
      }
      if (!mediaType.includes('json')) return await response.text();
      const body: unknown = await response.json();
      if (template === '/openapi.json') {
        expect(body).toEqual(openapi);
        return body;
      }
      validate(`${where}/schema`, body);
      return body;
    },
    /** The stream's messages up to `caught-up`, each valid as the document's message schema. */
    async events(method: string, template: string, response: Response): Promise<Json[]> {
      expect(response.status).toBe(200);
      const { where, mediaType } = responseOf(method, template, response);
      expect(mediaType).toBe('text/event-stream');
      if (where === undefined) throw new Error(`${method} ${template} describes no stream`);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const messages: Json[] = [];
      let text = '';
      while (!messages.some((message) => message.kind === 'caught-up')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const blocks = text.split('\n\n');
        text = blocks.pop() ?? '';
        for (const block of blocks) {
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (data === '') continue;
          const message = JSON.parse(data) as Json;
          validate(`${where}/x-strata-message`, message);
          messages.push(message);
        }
      }
      await reader.cancel();
      return messages;
    },
  };
}
