// A todo-list projection for tests: one row per todo, kept in the `todos` table.
import { defineInlineProjection } from '@strata/core';
import { Todo } from '@strata/example-todo';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

export interface TodoRow {
  readonly id: string;
  readonly title: string;
  readonly status: 'active' | 'completed';
}

export const todoTables = { todos: 'id, status' } as const;

export const todoList = defineInlineProjection({
  name: 'todo-list',
  aggregate: Todo,
  async apply(event, tx: StrataTransaction) {
    const todos = tx.table<TodoRow, string>('todos');
    switch (event.type) {
      case 'TodoAdded':
        await todos.put({ id: event.aggregateId, title: event.data.title, status: 'active' });
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
  // One row per todo: what a todo's events made is its row.
  async forget(stream, tx: StrataTransaction) {
    await tx.table<TodoRow, string>('todos').delete(stream.aggregateId);
  },
});
