import { type StoredEvent, scopesAfter } from '@strata/core';
import { aggregateSpec } from '@strata/core/testing';
import { describe, expect, it } from 'vitest';
import { Task } from './task.ts';
import { taskScopes } from './task-scopes.ts';

const spec = aggregateSpec(Task);
const created = {
  type: 'TaskCreated',
  data: { projectId: 'p1', title: 'Plan', assignee: 'ann' },
} as const;

const stored = (version: number, type: string, data: unknown): StoredEvent => ({
  id: `e${version}`,
  type,
  schemaVersion: 1,
  aggregateType: 'Task',
  aggregateId: 't1',
  version,
  occurredAt: '2026-12-02T10:00:00.000Z',
  data,
  metadata: {},
  position: version,
  recordedAt: '2026-12-02T10:00:00.000Z',
});

describe('Task', () => {
  it('is created once, in a project, for an assignee', () => {
    spec.given().when('create', created.data).then([created]);
    spec
      .given([created])
      .when('create', created.data)
      .thenThrows('DOMAIN_RULE_VIOLATED', 'TASK_EXISTS');
  });
  it('changes only what differs, and only once it exists', () => {
    spec.given([created]).when('reassign', { assignee: 'ann' }).then([]);
    spec
      .given([created])
      .when('reassign', { assignee: 'bob' })
      .then([{ type: 'TaskReassigned', data: { assignee: 'bob' } }]);
    spec
      .given()
      .when('rename', { title: 'x' })
      .thenThrows('DOMAIN_RULE_VIOLATED', 'TASK_NOT_FOUND');
  });
});

describe('task scopes', () => {
  it('place a task in its project and with its assignee; reassigning or moving replaces one', () => {
    const keys = scopesAfter(
      taskScopes,
      [],
      [
        stored(1, 'TaskCreated', created.data),
        stored(2, 'TaskRenamed', { title: 'Plan more' }),
        stored(3, 'TaskReassigned', { assignee: 'bob' }),
        stored(4, 'TaskMoved', { projectId: 'p2' }),
      ],
    ).map((list) => list.map((scope) => scope.key).sort());
    expect(keys).toEqual([
      ['assignedTo:{"userId":"ann"}', 'project:{"projectId":"p1"}'],
      ['assignedTo:{"userId":"ann"}', 'project:{"projectId":"p1"}'],
      ['assignedTo:{"userId":"bob"}', 'project:{"projectId":"p1"}'],
      ['assignedTo:{"userId":"bob"}', 'project:{"projectId":"p2"}'],
    ]);
  });
});
