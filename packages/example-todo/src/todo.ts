import { DomainRuleViolatedError, defineAggregate, everyNVersions } from '@strata/core';
import { z } from 'zod';
import {
  TodoAdded,
  TodoCompleted,
  TodoRemoved,
  TodoRenamed,
  TodoReopened,
  TodoTitle,
} from './todo-events.ts';

/** A todo's state: `absent` until added, `removed` for good once removed. */
export const TodoStateSchema = z.object({
  status: z.enum(['absent', 'active', 'completed', 'removed']),
  title: z.string(),
});
export type TodoState = z.infer<typeof TodoStateSchema>;

/** Why a todo command was refused; carried as `DomainRuleViolatedError.reason`. */
export type TodoRule = 'TODO_ALREADY_EXISTS' | 'TODO_NOT_FOUND' | 'TODO_REMOVED';

function mustBeLive(state: TodoState): void {
  if (state.status === 'absent') {
    throw new DomainRuleViolatedError('TODO_NOT_FOUND', 'There is no such todo');
  }
  if (state.status === 'removed') {
    throw new DomainRuleViolatedError('TODO_REMOVED', 'This todo was removed');
  }
}

/**
 * A todo item. Commands that would change nothing (completing a completed todo, renaming to the
 * same title) decide no events, so they are safe to repeat and to replay after a rebase.
 *
 * @example
 * await app.execute(Todo, 'todo-1', 'add', { title: 'Buy milk' });
 * await app.execute(Todo, 'todo-1', 'complete', {});
 */
export const Todo = defineAggregate({
  type: 'Todo',
  events: [TodoAdded, TodoRenamed, TodoCompleted, TodoReopened, TodoRemoved],
  initialState: (): TodoState => ({ status: 'absent', title: '' }),
  evolve(state, event): TodoState {
    switch (event.type) {
      case 'TodoAdded':
        return { status: 'active', title: event.data.title };
      case 'TodoRenamed':
        return { ...state, title: event.data.title };
      case 'TodoCompleted':
        return { ...state, status: 'completed' };
      case 'TodoReopened':
        return { ...state, status: 'active' };
      case 'TodoRemoved':
        return { ...state, status: 'removed' };
    }
  },
  snapshots: { schema: TodoStateSchema, policy: everyNVersions(100) },
}).withCommands((command) => ({
  add: command(z.object({ title: TodoTitle }), (state, { title }) => {
    if (state.status !== 'absent') {
      throw new DomainRuleViolatedError('TODO_ALREADY_EXISTS', 'This todo already exists');
    }
    return [{ type: 'TodoAdded', data: { title } }];
  }),
  rename: command(z.object({ title: TodoTitle }), (state, { title }) => {
    mustBeLive(state);
    return title === state.title ? [] : [{ type: 'TodoRenamed', data: { title } }];
  }),
  complete: command(z.object({}), (state) => {
    mustBeLive(state);
    return state.status === 'completed' ? [] : [{ type: 'TodoCompleted', data: {} }];
  }),
  reopen: command(z.object({}), (state) => {
    mustBeLive(state);
    return state.status === 'active' ? [] : [{ type: 'TodoReopened', data: {} }];
  }),
  remove: command(z.object({}), (state) => {
    mustBeLive(state);
    return [{ type: 'TodoRemoved', data: {} }];
  }),
}));
