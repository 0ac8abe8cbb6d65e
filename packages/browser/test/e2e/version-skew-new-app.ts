// The NEW build of the version-skew page: TodoNext (TodoStarred, TodoAdded schema version 3).
// See version-skew-app.ts.
import { TodoNext, todoListNext } from '../fixtures/todo-next.ts';
import { startVersionSkewApp } from './version-skew-app.ts';

startVersionSkewApp('new', TodoNext, todoListNext);
