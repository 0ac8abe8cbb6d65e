import { describe, expect, it } from 'vitest';
import { answeredScopesAction } from './answered-scopes.ts';

const held = new Set(['assignedTo:{"userId":"ann"}', 'project:{"projectId":"p1"}']);
const ann = 'assignedTo:{"userId":"ann"}';
const p1 = 'project:{"projectId":"p1"}';
const cy = 'assignedTo:{"userId":"cy"}';
const p3 = 'project:{"projectId":"p3"}';

describe('answeredScopesAction (what a push answer’s scopes do on a scoped device)', () => {
  it('lets go of an aggregate upstream never placed when the answer names no held scope', () => {
    expect(answeredScopesAction([cy, p3], held, [], false)).toEqual({ kind: 'leave' });
    expect(answeredScopesAction([], held, [], false)).toEqual({ kind: 'leave' });
    // Upstream took it out already (marked leaving): still let go.
    expect(answeredScopesAction([cy], held, [], true)).toEqual({ kind: 'leave' });
  });

  it('records the held scopes an answer names for an aggregate upstream has not brought', () => {
    expect(answeredScopesAction([ann, p3, ann], held, [], false)).toEqual({
      kind: 'join',
      scopes: [ann],
    });
  });

  it('leaves the aggregate to upstream once upstream said anything about it', () => {
    // In a held scope by upstream: an answer naming none may be newer (its `left` follows) or
    // older (a later move in) — upstream decides either way.
    expect(answeredScopesAction([cy], held, [p1], false)).toEqual({ kind: 'keep' });
    expect(answeredScopesAction([ann], held, [p1], false)).toEqual({ kind: 'keep' });
    // Upstream took it out: an answer naming a held scope may be older than that `left`.
    expect(answeredScopesAction([ann], held, [], true)).toEqual({ kind: 'keep' });
  });

  it('keeps everything on a device that holds the whole tenant', () => {
    expect(answeredScopesAction([cy], new Set(['tenant']), [], false)).toEqual({ kind: 'keep' });
  });
});
