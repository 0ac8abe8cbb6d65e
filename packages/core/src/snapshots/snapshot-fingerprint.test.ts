import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { snapshotFingerprint, stableStringify } from './snapshot-fingerprint.ts';

const todo = () =>
  z.object({
    title: z.string(),
    done: z.boolean(),
    tags: z.array(z.string()),
    due: z.string().nullable(),
  });

describe('snapshotFingerprint', () => {
  it('is 16 lower-case hex characters', () => {
    expect(snapshotFingerprint('Todo', todo())).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is stable for the same schema and for equal schemas built separately', () => {
    const schema = todo();
    expect(snapshotFingerprint('Todo', schema)).toBe(snapshotFingerprint('Todo', schema));
    expect(snapshotFingerprint('Todo', todo())).toBe(snapshotFingerprint('Todo', todo()));
  });

  it('is stable across key order when the keys are optional', () => {
    const a = z.object({ title: z.string().optional(), count: z.number().optional() });
    const b = z.object({ count: z.number().optional(), title: z.string().optional() });
    expect(snapshotFingerprint('Todo', a)).toBe(snapshotFingerprint('Todo', b));
  });

  it('is stable across key order of nested objects with optional keys', () => {
    const a = z.object({
      meta: z.object({ x: z.number().optional(), y: z.string().optional() }).optional(),
    });
    const b = z.object({
      meta: z.object({ y: z.string().optional(), x: z.number().optional() }).optional(),
    });
    expect(snapshotFingerprint('Todo', a)).toBe(snapshotFingerprint('Todo', b));
  });

  it('is stable across key order of required keys', () => {
    const a = z.object({ title: z.string(), done: z.boolean() });
    const b = z.object({ done: z.boolean(), title: z.string() });
    expect(snapshotFingerprint('Todo', a)).toBe(snapshotFingerprint('Todo', b));
  });

  it('is stable for a default revision and an explicit empty one', () => {
    expect(snapshotFingerprint('Todo', todo())).toBe(snapshotFingerprint('Todo', todo(), ''));
  });

  it.each([
    ['a field is added', todo().extend({ priority: z.number() })],
    ['a field is removed', todo().omit({ due: true })],
    ['a field is renamed', todo().omit({ due: true }).extend({ dueAt: z.string().nullable() })],
    ['a field changes type', todo().extend({ done: z.number() })],
    ['a field becomes optional', todo().extend({ title: z.string().optional() })],
    ['a field loses nullability', todo().extend({ due: z.string() })],
    ['an array item type changes', todo().extend({ tags: z.array(z.number()) })],
    ['a constraint is added', todo().extend({ title: z.string().min(1) })],
    ['an enum gains a value', todo().extend({ due: z.enum(['a', 'b']) })],
    ['the object becomes loose', todo().loose()],
    ['the root becomes an array', z.array(todo())],
  ])('changes when %s', (_, changed) => {
    expect(snapshotFingerprint('Todo', changed)).not.toBe(snapshotFingerprint('Todo', todo()));
  });

  it('changes when a nested shape changes', () => {
    const a = z.object({ list: z.array(z.object({ id: z.string() })) });
    const b = z.object({ list: z.array(z.object({ id: z.number() })) });
    expect(snapshotFingerprint('Todo', a)).not.toBe(snapshotFingerprint('Todo', b));
  });

  it('changes with the aggregate type', () => {
    expect(snapshotFingerprint('Todo', todo())).not.toBe(snapshotFingerprint('TodoList', todo()));
    expect(snapshotFingerprint('Todo', todo())).not.toBe(snapshotFingerprint('todo', todo()));
  });

  it('changes with the revision', () => {
    const base = snapshotFingerprint('Todo', todo());
    const r1 = snapshotFingerprint('Todo', todo(), 'r1');
    const r2 = snapshotFingerprint('Todo', todo(), 'r2');
    expect(new Set([base, r1, r2]).size).toBe(3);
    expect(snapshotFingerprint('Todo', todo(), 'r1')).toBe(r1);
  });

  it('does not mix up the aggregate type and the revision', () => {
    expect(snapshotFingerprint('ab', todo(), 'c')).not.toBe(snapshotFingerprint('a', todo(), 'bc'));
    expect(snapshotFingerprint('x', todo(), '')).not.toBe(snapshotFingerprint('', todo(), 'x'));
  });

  it('fingerprints schemas JSON Schema cannot represent without throwing', () => {
    const schema = z.object({ at: z.date(), big: z.bigint(), m: z.map(z.string(), z.number()) });
    expect(snapshotFingerprint('Todo', schema)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('stableStringify', () => {
  it('sorts object keys at every depth', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives equal strings for objects that differ only in key order', () => {
    const a = { title: 'x', done: false, meta: { n: 1, m: [2, 3] } };
    const b = { meta: { m: [2, 3], n: 1 }, done: false, title: 'x' };
    expect(stableStringify(a)).toBe(stableStringify(b));
  });

  it('keeps array order', () => {
    expect(stableStringify([3, 1, 2])).toBe('[3,1,2]');
    expect(stableStringify(['b', 'a'])).not.toBe(stableStringify(['a', 'b']));
  });

  it('sorts by code unit, not locale', () => {
    expect(stableStringify({ b: 1, B: 2, a: 3, _: 4, '10': 5, '9': 6 })).toBe(
      '{"10":5,"9":6,"B":2,"_":4,"a":3,"b":1}',
    );
  });

  it('matches JSON.stringify for primitives and escapes keys and strings', () => {
    for (const value of ['a"b\n', 1.5, -0, true, false, null, '', 0]) {
      expect(stableStringify(value)).toBe(JSON.stringify(value));
    }
    expect(stableStringify({ 'k"ey': 'v\\' })).toBe('{"k\\"ey":"v\\\\"}');
  });

  it('drops undefined members like JSON.stringify and writes undefined as null elsewhere', () => {
    expect(stableStringify({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(stableStringify([undefined])).toBe('[null]');
    expect(stableStringify(undefined)).toBe('null');
  });

  it('round-trips through JSON.parse', () => {
    const value = { z: [{ b: 2, a: 1 }], y: 'text', x: { nested: { deep: [null, true] } } };
    expect(JSON.parse(stableStringify(value))).toEqual(value);
  });
});
