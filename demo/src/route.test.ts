import { describe, expect, it } from 'vitest';
import { routeOf } from './route.ts';

describe('routeOf', () => {
  it('maps the TodoMVC hashes and falls back to all', () => {
    expect(routeOf('#/active')).toBe('active');
    expect(routeOf('#/completed')).toBe('completed');
    expect(routeOf('#/')).toBe('all');
    expect(routeOf('')).toBe('all');
    expect(routeOf('#/unknown')).toBe('all');
  });
});
