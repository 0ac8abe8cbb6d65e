import { aggregateSpec } from '@strata/core/testing';
import { describe, it } from 'vitest';
import { Todo } from './todo.ts';

const spec = aggregateSpec(Todo);
const added = { type: 'TodoAdded', data: { title: 'Buy milk' } } as const;
const completed = { type: 'TodoCompleted', data: {} } as const;
const removed = { type: 'TodoRemoved', data: {} } as const;

describe('Todo', () => {
  describe('add', () => {
    it('adds a todo with a trimmed title', () => {
      spec.given().when('add', { title: '  Buy milk ' }).then([added]);
    });
    it('refuses an empty title', () => {
      spec.given().when('add', { title: '   ' }).thenThrows('VALIDATION_FAILED');
    });
    it('refuses to add the same todo twice', () => {
      spec
        .given([added])
        .when('add', { title: 'Again' })
        .thenThrows('DOMAIN_RULE_VIOLATED', 'TODO_ALREADY_EXISTS');
    });
    it('makes an active todo', () => {
      spec
        .given()
        .when('add', { title: 'Buy milk' })
        .thenState({ status: 'active', title: 'Buy milk' });
    });
  });

  describe('rename', () => {
    it('renames a todo', () => {
      spec
        .given([added])
        .when('rename', { title: 'Buy oat milk' })
        .then([{ type: 'TodoRenamed', data: { title: 'Buy oat milk' } }]);
    });
    it('decides nothing when the title is unchanged', () => {
      spec.given([added]).when('rename', { title: 'Buy milk' }).then([]);
    });
    it('refuses to rename a todo that does not exist', () => {
      spec
        .given()
        .when('rename', { title: 'x' })
        .thenThrows('DOMAIN_RULE_VIOLATED', 'TODO_NOT_FOUND');
    });
  });

  describe('complete and reopen', () => {
    it('completes an active todo', () => {
      spec.given([added]).when('complete', {}).then([completed]);
    });
    it('decides nothing when completing a completed todo', () => {
      spec.given([added, completed]).when('complete', {}).then([]);
    });
    it('reopens a completed todo', () => {
      spec
        .given([added, completed])
        .when('reopen', {})
        .thenState({ status: 'active', title: 'Buy milk' });
    });
    it('decides nothing when reopening an active todo', () => {
      spec.given([added]).when('reopen', {}).then([]);
    });
    it('refuses to complete a removed todo', () => {
      spec
        .given([added, removed])
        .when('complete', {})
        .thenThrows('DOMAIN_RULE_VIOLATED', 'TODO_REMOVED');
    });
  });

  describe('remove', () => {
    it('removes a todo', () => {
      spec
        .given([added, completed])
        .when('remove', {})
        .thenState({ status: 'removed', title: 'Buy milk' });
    });
    it('refuses to remove twice', () => {
      spec
        .given([added, removed])
        .when('remove', {})
        .thenThrows('DOMAIN_RULE_VIOLATED', 'TODO_REMOVED');
    });
  });

  it('upcasts schema version 1 of TodoAdded, which called the title "text"', () => {
    const event = Todo.events.decode({
      id: '0ujtsYcgvSTl8PAuAdqWYSMnLOv',
      type: 'TodoAdded',
      schemaVersion: 1,
      aggregateType: 'Todo',
      aggregateId: 't1',
      version: 1,
      occurredAt: '2026-01-01T00:00:00.000Z',
      data: { text: 'Old milk' },
      metadata: {},
    });
    spec
      .given()
      .when('add', { title: 'x' })
      .then([{ type: 'TodoAdded', data: { title: 'x' } }]);
    if (
      event.type !== 'TodoAdded' ||
      event.data.title !== 'Old milk' ||
      event.schemaVersion !== 2
    ) {
      throw new Error(`not upcast: ${JSON.stringify(event)}`);
    }
  });
});
