export * from './todo.ts';
export * from './todo-events.ts';
