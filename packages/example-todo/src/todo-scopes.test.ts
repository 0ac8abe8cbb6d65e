import { type StoredEvent, scopesAfter } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { todoScopes } from './todo-scopes.ts';

const stored = (version: number, type: string, data: unknown, userId?: string): StoredEvent => ({
  id: `e${version}`,
  type,
  schemaVersion: type === 'TodoAdded' ? 2 : 1,
  aggregateType: 'Todo',
  aggregateId: 'todo-1',
  version,
  occurredAt: '2026-12-02T10:00:00.000Z',
  data,
  metadata: userId === undefined ? {} : { userId },
  position: version,
  recordedAt: '2026-12-02T10:00:00.000Z',
});

describe('todo scopes', () => {
  it('place a todo with the user stamped on its first event, for good', () => {
    const lists = scopesAfter(
      todoScopes,
      [],
      [stored(1, 'TodoAdded', { title: 'Milk' }, 'ann'), stored(2, 'TodoCompleted', {}, 'bob')],
    );
    expect(lists.map((list) => list.map((scope) => scope.key))).toEqual([
      ['todosOf:{"userId":"ann"}'],
      ['todosOf:{"userId":"ann"}'],
    ]);
  });

  it('leave a todo without an owner in no scope (only the whole tenant holds it)', () => {
    expect(scopesAfter(todoScopes, [], [stored(1, 'TodoAdded', { title: 'Milk' })])).toEqual([[]]);
  });
});
