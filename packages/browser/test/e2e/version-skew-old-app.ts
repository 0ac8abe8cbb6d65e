// The OLD build of the version-skew page: Todo as @strata/example-todo defines it (no stars,
// TodoAdded up to schema version 2). See version-skew-app.ts.
import { Todo } from '@strata/example-todo';
import { todoList } from '../fixtures/todo-list.ts';
import { startVersionSkewApp } from './version-skew-app.ts';

startVersionSkewApp('old', Todo, todoList);
