import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../event-store/same-event-content.ts';
import { parseScopeKey, scopeKey } from './scope-key.ts';

describe('scope keys', () => {
  it('are the name, then the parameters as canonical JSON: key order does not matter', () => {
    expect(scopeKey('project', { projectId: 'p1' })).toBe('project:{"projectId":"p1"}');
    expect(scopeKey('pair', { b: 2, a: 1 })).toBe(scopeKey('pair', { a: 1, b: 2 }));
    expect(scopeKey('tenant', {})).toBe('tenant');
    expect(canonicalJson({ z: { y: 1, x: [{ b: 1, a: 2 }] } })).toBe(
      '{"z":{"x":[{"a":2,"b":1}],"y":1}}',
    );
  });

  it('parse back into name and parameters', () => {
    expect(parseScopeKey('project:{"projectId":"p1"}')).toEqual({
      name: 'project',
      params: { projectId: 'p1' },
    });
    expect(parseScopeKey('tenant')).toEqual({ name: 'tenant', params: {} });
  });

  it('refuse names that are not scope names', () => {
    expect(() => scopeKey('has space', {})).toThrow(TypeError);
    expect(() => scopeKey('', {})).toThrow(TypeError);
    expect(() => scopeKey('1starts-with-digit', {})).toThrow(TypeError);
  });

  it.each([
    ['', 'empty'],
    ['project:', 'no JSON after the colon'],
    ['project:{"projectId":', 'broken JSON'],
    ['project:["p1"]', 'an array, not an object'],
    ['project:null', 'null'],
    ['project:"p1"', 'a string'],
    ['project:{"b":1,"a":2}', 'keys out of canonical order (two spellings of one scope)'],
    ['project: {"a":1}', 'space before the JSON'],
    ['pro ject:{}', 'a bad name'],
    ['x'.repeat(65), 'a name longer than 64'],
  ])('parse %j as no key (%s)', (key) => {
    expect(parseScopeKey(key)).toBeUndefined();
  });
});
