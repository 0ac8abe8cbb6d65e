// The Todo aggregate: its state, its rules and its commands.
export { Todo, type TodoRule, type TodoState, TodoStateSchema } from './todo.ts';

// Its events, with the title rule they share.
export {
  TodoAdded,
  TodoCompleted,
  TodoRemoved,
  TodoRenamed,
  TodoReopened,
  TodoTitle,
} from './todo-events.ts';
