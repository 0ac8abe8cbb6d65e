// A cart whose commands the server decides: a limit, an owner rule, a time-stamped item.
export {
  CART_LIMIT,
  Cart,
  CartOpened,
  type CartState,
  ItemAdded,
  ItemRemoved,
} from './cart.ts';
// A note edited many times, for snapshot bootstrap: its folder places it in a scope.
export {
  defineNote,
  folder,
  Note,
  NoteCreated,
  NoteEdited,
  type NoteState,
  NoteStateSchema,
  noteScopes,
  SNAPSHOT_EVERY,
} from './note.ts';
// A team's task, for scoped sync: its project and assignee place it in scopes.
export {
  Task,
  TaskCreated,
  TaskMoved,
  TaskReassigned,
  TaskRenamed,
  type TaskState,
} from './task.ts';
export { assignedTo, project, taskScopes } from './task-scopes.ts';
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
// Each user's todos as a scope, for scoped sync (the demo syncs its user's).
export { todoScopes, todosOf } from './todo-scopes.ts';
