// The app's read model: one row per live todo in the `todos` table, kept by an inline projection
// inside each command's transaction (the same as the React demo’s and the Vue example’s).
import type { StrataTransaction } from '@strata/browser';
import { defineInlineProjection } from '@strata/core';
import { Todo } from '@strata/example-todo';

export interface TodoRow {
  readonly id: string;
  readonly title: string;
  readonly status: 'active' | 'completed';
  /** When the todo was added: the list's order, the same on every device. */
  readonly createdAt: string;
}

/** The projection tables, in Dexie's schema syntax. */
export const todoTables = { todos: 'id, createdAt' } as const;

export const todoList = defineInlineProjection({
  name: 'todo-list',
  aggregate: Todo,
  async apply(event, tx: StrataTransaction) {
    const todos = tx.table<TodoRow, string>('todos');
    switch (event.type) {
      case 'TodoAdded':
        await todos.put({
          id: event.aggregateId,
          title: event.data.title,
          status: 'active',
          createdAt: event.occurredAt,
        });
        return;
      case 'TodoRenamed':
        await todos.update(event.aggregateId, { title: event.data.title });
        return;
      case 'TodoCompleted':
        await todos.update(event.aggregateId, { status: 'completed' });
        return;
      case 'TodoReopened':
        await todos.update(event.aggregateId, { status: 'active' });
        return;
      case 'TodoRemoved':
        await todos.delete(event.aggregateId);
        return;
    }
  },
  // One row per todo, so a sync rebase replays just that todo's events after deleting its row.
  async forget(stream, tx: StrataTransaction) {
    await tx.table<TodoRow, string>('todos').delete(stream.aggregateId);
  },
});
