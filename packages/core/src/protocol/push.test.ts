import { describe, expect, it } from 'vitest';
import type { $ZodType } from 'zod/v4/core';
import { safeParseSchema } from '../errors/validation-issues.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { CommitSchema, PushRequestSchema, PushResponseSchema } from './push.ts';

type Json = Record<string, unknown>;

let seq = 0;
function event(overrides: Json = {}): Json {
  seq += 1;
  return {
    id: newKsuid(),
    type: 'TodoAdded',
    schemaVersion: 1,
    aggregateType: 'Todo',
    aggregateId: 'todo-1',
    version: 1,
    occurredAt: '2024-02-29T12:34:56.000Z',
    data: { title: `Milk ${seq}`, tags: ['a', 'b'], done: false, count: 2, note: null },
    metadata: { clientId: 'client-1', commandId: `cmd-${seq}`, app: { nested: [1, 'x'] } },
    ...overrides,
  };
}

/** Events 1..n of one aggregate. */
function events(n: number, overrides: Json = {}, from = 1): Json[] {
  return Array.from({ length: n }, (_, index) => event({ version: from + index, ...overrides }));
}

function push(commits: Json[], overrides: Json = {}): Json {
  return { clientId: 'client-1', commits, ...overrides };
}

function validPush(): Json {
  return push([
    { commitId: 'commit-1', events: events(2) },
    { commitId: 'commit-2', events: events(1, { aggregateId: 'todo-2' }) },
    { commitId: 'commit-3', events: events(2, {}, 3) },
  ]);
}

type Path = readonly PropertyKey[];

function issues(schema: $ZodType, input: unknown): { path: Path; message: string; code: string }[] {
  const result = safeParseSchema(schema, input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return result.error.issues.map(({ path, message, code }) => ({ path, message, code }));
}

/** The distinct places the issues point at, in order. */
function paths(schema: $ZodType, input: unknown): Path[] {
  const seen = new Map<string, Path>();
  for (const { path } of issues(schema, input)) seen.set(JSON.stringify(path), path);
  return [...seen.values()];
}

/** Replaces the JSON value at `path` in a deep copy of `body`, through JSON text. */
function withRawJson(body: Json, path: (string | number)[], rawJson: string): Json {
  const marker = '"__RAW_MARKER__"';
  const copy = JSON.parse(JSON.stringify(body)) as Json;
  let target: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  target[path[path.length - 1] as string | number] = '__RAW_MARKER__';
  return JSON.parse(JSON.stringify(copy).replace(marker, rawJson)) as Json;
}

const EVENT0 = ['commits', 0, 'events', 0] as const;

describe('PushRequestSchema: valid pushes', () => {
  it('parses a push of several commits and returns the same data', () => {
    const body = validPush();
    const parsed = PushRequestSchema.parse(body);
    expect(parsed).toEqual(body);
    expect(parsed.commits).toHaveLength(3);
  });

  it('parses the same push after a JSON round trip', () => {
    const body = JSON.parse(JSON.stringify(validPush())) as unknown;
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });

  it('accepts a commit whose versions start above 1 and events with empty metadata', () => {
    const body = push([{ commitId: 'c', events: events(3, { metadata: {} }, 41) }]);
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });

  it('accepts any JSON value as data, and harmless look-alike keys', () => {
    for (const data of [null, 0, 'text', true, [], {}, [[{ a: [null] }]]]) {
      expect(
        PushRequestSchema.safeParse(push([{ commitId: 'c', events: [event({ data })] }])).success,
      ).toBe(true);
    }
    const lookAlikes = JSON.parse(
      '{"proto":1,"__proto":2,"constructors":3,"Prototype":4,"value":"__proto__","list":["constructor"]}',
    ) as unknown;
    expect(
      PushRequestSchema.safeParse(push([{ commitId: 'c', events: [event({ data: lookAlikes })] }]))
        .success,
    ).toBe(true);
  });

  it('accepts occurredAt with an offset', () => {
    const body = push([
      { commitId: 'c', events: [event({ occurredAt: '2024-02-29T12:34:56+02:00' })] },
    ]);
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });
});

describe('PushRequestSchema: malformed shapes and wrong types', () => {
  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'push'],
    ['a number', 1],
  ])('rejects %s as the body', (_, body) => {
    expect(paths(PushRequestSchema, body)).toEqual([[]]);
  });

  it('rejects a body without clientId and commits, naming both', () => {
    expect(paths(PushRequestSchema, {})).toEqual(
      expect.arrayContaining([['clientId'], ['commits']]),
    );
  });

  it.each([
    ['clientId a number', { clientId: 5 }, ['clientId']],
    ['clientId empty', { clientId: '' }, ['clientId']],
    ['clientId too long', { clientId: 'x'.repeat(201) }, ['clientId']],
    ['commits an object', { commits: {} }, ['commits']],
    ['commits a string', { commits: 'c' }, ['commits']],
  ])('rejects %s', (_, overrides, path) => {
    expect(paths(PushRequestSchema, { ...validPush(), ...overrides })).toEqual([path]);
  });

  it.each([
    ['a commit that is null', null, ['commits', 0]],
    ['a commit without events', { commitId: 'c' }, ['commits', 0, 'events']],
    ['a commit without commitId', { events: events(1) }, ['commits', 0, 'commitId']],
    ['events that are an object', { commitId: 'c', events: event() }, ['commits', 0, 'events']],
    ['an event that is a string', { commitId: 'c', events: ['e'] }, ['commits', 0, 'events', 0]],
    ['a numeric commitId', { commitId: 7, events: events(1) }, ['commits', 0, 'commitId']],
  ])('rejects %s', (_, commit, path) => {
    expect(paths(PushRequestSchema, push([commit as Json]))).toEqual([path]);
  });

  it.each([
    ['id', 12345],
    ['type', 1],
    ['type', ''],
    ['schemaVersion', '1'],
    ['schemaVersion', 0],
    ['schemaVersion', 1.5],
    ['aggregateType', null],
    ['aggregateId', ''],
    ['aggregateId', 'x'.repeat(201)],
    ['version', '1'],
    ['occurredAt', 1709210096000],
    ['occurredAt', 'yesterday'],
    ['occurredAt', '2024-02-30'],
    ['metadata', null],
    ['metadata', []],
    ['metadata', 'meta'],
  ])('rejects an event with a bad %s (case %#), at that field', (field, value) => {
    const body = push([{ commitId: 'c', events: [event({ [field]: value })] }]);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, field]]);
  });

  it.each([
    'id',
    'type',
    'schemaVersion',
    'aggregateType',
    'aggregateId',
    'version',
    'occurredAt',
    'data',
    'metadata',
  ])('rejects an event without %s', (field) => {
    const incomplete = event();
    delete incomplete[field];
    const body = push([{ commitId: 'c', events: [incomplete] }]);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, field]]);
  });

  it.each([
    ['clientId', 5],
    ['commandId', ''],
    ['userId', ['u']],
    ['correlationId', ''],
  ])('rejects metadata whose well-known key %s is %j', (key, value) => {
    const body = push([{ commitId: 'c', events: [event({ metadata: { [key]: value } })] }]);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, 'metadata', key]]);
  });
});

describe('PushRequestSchema: versions', () => {
  it.each([
    ['0', 0],
    ['negative', -1],
    ['non-integer', 1.5],
    ['not finite', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['above MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER + 2],
  ])('rejects version %s', (_, version) => {
    const body = push([{ commitId: 'c', events: [event({ version })] }]);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, 'version']]);
  });

  it('accepts version 2^31 - 1 (a Postgres integer) and refuses 2^31', () => {
    const body = push([{ commitId: 'c', events: [event({ version: 2_147_483_647 })] }]);
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
    const above = push([{ commitId: 'c', events: [event({ version: 2_147_483_648 })] }]);
    expect(paths(PushRequestSchema, above)).toEqual([[...EVENT0, 'version']]);
  });

  it.each([
    ['a gap', [1, 3], [1]],
    ['a gap later on', [4, 5, 6, 8], [3]],
    ['a repeated version', [2, 2], [1]],
    ['descending versions', [3, 2, 1], [1, 2]],
  ])('rejects %s inside a commit, at the offending event', (_, versions, offenders) => {
    const commit = { commitId: 'c', events: versions.map((version) => event({ version })) };
    const found = issues(PushRequestSchema, push([commit]));
    expect(found.map((issue) => issue.path)).toEqual(
      offenders.map((index) => ['commits', 0, 'events', index, 'version']),
    );
    expect(found[0]?.message).toMatch(/contiguous/);
    expect(CommitSchema.safeParse(commit).success).toBe(false);
  });
});

describe('PushRequestSchema: one aggregate per commit', () => {
  it('rejects events of two aggregate ids in one commit, at the second aggregate', () => {
    const commit = {
      commitId: 'c',
      events: [event({ version: 1 }), event({ version: 2, aggregateId: 'todo-2' })],
    };
    const found = issues(PushRequestSchema, push([commit]));
    expect(found.map((issue) => issue.path)).toEqual([['commits', 0, 'events', 1, 'aggregateId']]);
    expect(found[0]?.message).toMatch(/same aggregate/);
  });

  it('rejects events of two aggregate types sharing an id in one commit', () => {
    const commit = {
      commitId: 'c',
      events: [event({ version: 1 }), event({ version: 2, aggregateType: 'List' })],
    };
    expect(paths(PushRequestSchema, push([commit]))).toEqual([
      ['commits', 0, 'events', 1, 'aggregateId'],
    ]);
  });

  it('accepts different event types of one aggregate in one commit', () => {
    const commit = {
      commitId: 'c',
      events: [event({ version: 1 }), event({ version: 2, type: 'TodoRenamed' })],
    };
    expect(PushRequestSchema.safeParse(push([commit])).success).toBe(true);
  });
});

describe('PushRequestSchema: ids', () => {
  it('rejects a duplicate event id inside a commit, at the second occurrence', () => {
    const [first, second] = events(2);
    const commit = { commitId: 'c', events: [first, { ...second, id: first?.id }] };
    const found = issues(PushRequestSchema, push([commit]));
    expect(found.map((issue) => issue.path)).toEqual([['commits', 0, 'events', 1, 'id']]);
    expect(found[0]?.message).toMatch(/twice/);
  });

  it('rejects an event id that appears in two commits, pointing into the later commit', () => {
    const shared = newKsuid();
    const body = push([
      { commitId: 'c1', events: [event({ id: shared })] },
      { commitId: 'c2', events: events(1, { aggregateId: 'todo-2' }) },
      {
        commitId: 'c3',
        events: [
          event({ aggregateId: 'todo-3' }),
          event({ aggregateId: 'todo-3', version: 2, id: shared }),
        ],
      },
    ]);
    const found = issues(PushRequestSchema, body);
    expect(found).toHaveLength(1);
    expect(found[0]?.path.slice(0, 3)).toEqual(['commits', 2, 'events']);
    expect(found[0]?.message).toMatch(/two commits/);
  });

  it('names the event whose id already appeared in an earlier commit', () => {
    const shared = newKsuid();
    const body = push([
      { commitId: 'c1', events: [event({ id: shared })] },
      {
        commitId: 'c2',
        events: [
          event({ aggregateId: 'todo-2' }),
          event({ aggregateId: 'todo-2', version: 2, id: shared }),
        ],
      },
    ]);
    expect(paths(PushRequestSchema, body)).toEqual([['commits', 1, 'events', 1, 'id']]);
  });

  it('rejects a duplicate commitId, at the second commit', () => {
    const body = push([
      { commitId: 'same', events: events(1) },
      { commitId: 'other', events: events(1, { aggregateId: 'todo-2' }) },
      { commitId: 'same', events: events(1, { aggregateId: 'todo-3' }) },
    ]);
    const found = issues(PushRequestSchema, body);
    expect(found.map((issue) => issue.path)).toEqual([['commits', 2, 'commitId']]);
    expect(found[0]?.message).toMatch(/twice/);
  });

  it.each([
    ['too short', newKsuid().slice(1)],
    ['too long', `${newKsuid()}0`],
    ['a non-base62 character', `${newKsuid().slice(0, 26)}-`],
    ['whitespace', ` ${newKsuid().slice(1)}`],
    ['larger than the largest KSUID', 'z'.repeat(27)],
    ['a UUID', '0b4f3c4e-8a8c-4b8e-9b7e-1f2a3b4c5d6e'],
    ['empty', ''],
  ])('rejects an event id that is %s', (_, id) => {
    const body = push([{ commitId: 'c', events: [event({ id })] }]);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, 'id']]);
  });

  it('accepts the smallest and the largest KSUID', () => {
    const body = push([
      {
        commitId: 'c',
        events: [
          event({ id: '000000000000000000000000000' }),
          event({ id: 'aWgEPTl1tmebfsQzFP4bxwgy80V', version: 2 }),
        ],
      },
    ]);
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });
});

describe('PushRequestSchema: strict objects', () => {
  it.each([
    ['the push', (body: Json) => ({ ...body, extra: true }), []],
    [
      'a commit',
      (body: Json) => push([{ ...(body.commits as Json[])[0], note: 'x' }]),
      ['commits', 0],
    ],
    ['an event', () => push([{ commitId: 'c', events: [event({ position: 1 })] }]), [...EVENT0]],
  ])('rejects an unknown key on %s, at that object', (_, build, path) => {
    const found = issues(PushRequestSchema, build(validPush()));
    expect(found).toEqual([expect.objectContaining({ code: 'unrecognized_keys', path })]);
  });

  it('keeps app keys in metadata (metadata is open, not strict)', () => {
    const body = push([
      { commitId: 'c', events: [event({ metadata: { tenantHint: 'x', n: 1 } })] },
    ]);
    const parsed = PushRequestSchema.parse(body);
    expect(parsed.commits[0]?.events[0]?.metadata).toEqual({ tenantHint: 'x', n: 1 });
  });

  it('rejects a JSON __proto__ key on an envelope as an unknown key', () => {
    const body = withRawJson(
      push([{ commitId: 'c', events: [event()] }]),
      ['commits', 0, 'events', 0, 'type'],
      '"TodoAdded","__proto__":{"admin":true}',
    );
    const commits = body.commits as { events: Json[] }[];
    const envelope = commits[0]?.events[0] ?? {};
    expect(Object.hasOwn(envelope, '__proto__')).toBe(true);
    expect(issues(PushRequestSchema, body)).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', path: [...EVENT0] }),
    ]);
  });
});

describe('PushRequestSchema: unsafe JSON in data and metadata', () => {
  const base = () => push([{ commitId: 'c', events: [event({ data: { a: 1 } })] }]);

  it.each(['__proto__', 'constructor', 'prototype'])('rejects a %s key', (key) => {
    const cases: [string, (string | number)[], Path][] = [
      [`{"${key}":{"polluted":true}}`, ['data'], ['data', key]],
      [`{"ok":{"deep":{"${key}":1}}}`, ['data'], ['data', 'ok', 'deep', key]],
      [`[1,{"x":[{"${key}":null}]}]`, ['data'], ['data', 1, 'x', 0, key]],
      [`{"app":{"${key}":"x"}}`, ['metadata'], ['metadata', 'app', key]],
      [`{"list":[[{"${key}":{}}]]}`, ['metadata'], ['metadata', 'list', 0, 0, key]],
    ];
    for (const [raw, at, expected] of cases) {
      const body = withRawJson(base(), [...EVENT0, ...at], raw);
      const found = issues(PushRequestSchema, body);
      expect(found.map((issue) => issue.path)).toEqual([[...EVENT0, ...expected]]);
      expect(found[0]?.message).toContain(key);
    }
  });

  it.each(['constructor', 'prototype'])('rejects a top-level %s key in metadata', (key) => {
    const body = withRawJson(base(), [...EVENT0, 'metadata'], `{"clientId":"c","${key}":{}}`);
    expect(paths(PushRequestSchema, body)).toEqual([[...EVENT0, 'metadata', key]]);
  });

  it.each(['{"__proto__":{"admin":true}}', '{"__proto__":"x"}', '{"__proto__":null}'])(
    'rejects a top-level __proto__ key in metadata: %s',
    (raw) => {
      const body = withRawJson(base(), [...EVENT0, 'metadata'], raw);
      expect(PushRequestSchema.safeParse(body).success).toBe(false);
    },
  );

  it('never yields an object with a polluted prototype', () => {
    const body = withRawJson(base(), [...EVENT0, 'metadata'], '{"__proto__":{"admin":true}}');
    const result = PushRequestSchema.safeParse(body);
    if (result.success) {
      const metadata = result.data.commits[0]?.events[0]?.metadata as Record<string, unknown>;
      expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
      expect(metadata.admin).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  function nested(depth: number): unknown {
    let value: unknown = 'leaf';
    for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { k: value } : [value];
    return value;
  }

  it('accepts data nested 64 levels deep', () => {
    const body = push([{ commitId: 'c', events: [event({ data: nested(64) })] }]);
    expect(PushRequestSchema.safeParse(body).success).toBe(true);
  });

  it.each([65, 500])('rejects data nested %i levels deep', (depth) => {
    const body = push([{ commitId: 'c', events: [event({ data: nested(depth) })] }]);
    const found = issues(PushRequestSchema, body);
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(/deeper than 64/);
    expect(found[0]?.path.slice(0, 5)).toEqual([...EVENT0, 'data']);
    expect(found[0]?.path.length).toBe(4 + 1 + 65);
  });

  it('rejects metadata nested too deep', () => {
    const body = push([{ commitId: 'c', events: [event({ metadata: { app: nested(80) } })] }]);
    const found = issues(PushRequestSchema, body);
    expect(found[0]?.path.slice(0, 6)).toEqual([...EVENT0, 'metadata', 'app']);
    expect(found[0]?.message).toMatch(/deeper than 64/);
  });

  it.each([
    ['NaN', { n: Number.NaN }, ['n'], /finite/],
    ['Infinity', { list: [1, Number.POSITIVE_INFINITY] }, ['list', 1], /finite/],
    ['undefined', { u: undefined }, ['u'], /not a JSON value/],
    ['a Date', { when: new Date(0) }, ['when'], /not a JSON value/],
    ['a Map', { m: new Map() }, ['m'], /not a JSON value/],
    ['a function', { f: () => 1 }, ['f'], /not a JSON value/],
    ['a bigint', { b: 1n }, ['b'], /not a JSON value/],
  ])('rejects %s inside data (values JSON.parse cannot make)', (_, data, at, message) => {
    const body = push([{ commitId: 'c', events: [event({ data })] }]);
    const found = issues(PushRequestSchema, body);
    expect(found.map((issue) => issue.path)).toEqual([[...EVENT0, 'data', ...at]]);
    expect(found[0]?.message).toMatch(message);
  });
});

describe('PushRequestSchema: empty and oversized', () => {
  it('rejects a push without commits', () => {
    expect(paths(PushRequestSchema, push([]))).toEqual([['commits']]);
  });

  it('rejects a commit without events', () => {
    expect(paths(PushRequestSchema, push([{ commitId: 'c', events: [] }]))).toEqual([
      ['commits', 0, 'events'],
    ]);
  });

  it('accepts 1000 events in a commit and rejects 1001', () => {
    const many = events(1001);
    expect(CommitSchema.safeParse({ commitId: 'c', events: many.slice(0, 1000) }).success).toBe(
      true,
    );
    expect(paths(CommitSchema, { commitId: 'c', events: many })).toEqual([['events']]);
  });
});

describe('PushResponseSchema', () => {
  const accepted = { commitId: 'c1', status: 'accepted', positions: [10, 11] };
  const rejected = {
    commitId: 'c2',
    status: 'rejected',
    code: 'VERSION_CONFLICT',
    message: 'Todo/todo-1: expected version 1, actual 3',
    currentVersion: 3,
  };

  it('parses accepted and rejected results in order', () => {
    const parsed = PushResponseSchema.parse({ results: [accepted, rejected] });
    expect(parsed.results.map((result) => result.status)).toEqual(['accepted', 'rejected']);
    const second = parsed.results[1];
    if (second?.status !== 'rejected') throw new Error('expected a rejected result');
    expect(second.currentVersion).toBe(3);
  });

  it('accepts an empty result list and currentVersion 0', () => {
    expect(PushResponseSchema.safeParse({ results: [] }).success).toBe(true);
    expect(
      PushResponseSchema.safeParse({ results: [{ ...rejected, currentVersion: 0 }] }).success,
    ).toBe(true);
  });

  it.each([
    ['results missing', {}, ['results']],
    ['results not an array', { results: accepted }, ['results']],
    [
      'an unknown status',
      { results: [{ ...accepted, status: 'pending' }] },
      ['results', 0, 'status'],
    ],
    [
      'a position of 0',
      { results: [{ ...accepted, positions: [0] }] },
      ['results', 0, 'positions', 0],
    ],
    [
      'a fractional position',
      { results: [{ ...accepted, positions: [1.5] }] },
      ['results', 0, 'positions', 0],
    ],
    [
      'accepted without positions',
      { results: [{ commitId: 'c', status: 'accepted' }] },
      ['results', 0, 'positions'],
    ],
    ['an unknown code', { results: [{ ...rejected, code: 'TEAPOT' }] }, ['results', 0, 'code']],
    [
      'a negative currentVersion',
      { results: [{ ...rejected, currentVersion: -1 }] },
      ['results', 0, 'currentVersion'],
    ],
    [
      'a rejection without message',
      { results: [{ ...rejected, message: undefined }] },
      ['results', 0, 'message'],
    ],
    ['an empty commitId', { results: [{ ...accepted, commitId: '' }] }, ['results', 0, 'commitId']],
  ])('rejects %s', (_, body, path) => {
    expect(paths(PushResponseSchema, body)).toEqual([path]);
  });

  it.each([
    ['the response', { results: [], ok: true }, []],
    ['an accepted result', { results: [{ ...accepted, currentVersion: 2 }] }, ['results', 0]],
    ['a rejected result', { results: [{ ...rejected, positions: [] }] }, ['results', 0]],
  ])('rejects unknown keys on %s', (_, body, path) => {
    expect(issues(PushResponseSchema, body)).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', path }),
    ]);
  });
});
