import { useExecute } from '@strata/browser/react';
import { Todo } from '@strata/example-todo';
import { useState } from 'react';
import { APP_VERSION } from './app-version.ts';
import { DevtoolsToggle } from './devtools-toggle.tsx';
import { HistoryPanel } from './history-panel.tsx';
import { NewTodo } from './new-todo.tsx';
import { RejectedNotice } from './rejected-notice.tsx';
import { useRoute } from './route.ts';
import { runCommand } from './run-command.ts';
import { SyncStatus } from './sync-status.tsx';
import { TodoFooter } from './todo-footer.tsx';
import { TodoItem } from './todo-item.tsx';
import { UpdatePrompt } from './update-prompt.tsx';
import { useChoice } from './use-choice.ts';
import { useTodos } from './use-todos.ts';

/**
 * TodoMVC on strata, plus the sync indicator, the update prompt, rejected commands and each
 * todo's history.
 */
export function App() {
  const execute = useExecute();
  const live = useTodos();
  const todos = live ?? [];
  const route = useRoute();
  const [historyFor, setHistoryFor] = useState<string>();

  const active = todos.filter((todo) => todo.status === 'active');
  const completed = todos.filter((todo) => todo.status === 'completed');
  const shown = route === 'active' ? active : route === 'completed' ? completed : todos;

  const [allCompleted, chooseAllCompleted] = useChoice(active.length === 0, live);

  // One command per todo: each todo is its own aggregate (and its own sync unit). Todos already
  // in the wanted state decide no events, so the command is sent to all of them.
  const toggleAll = () => {
    const command = allCompleted ? 'reopen' : 'complete';
    chooseAllCompleted(
      !allCompleted,
      Promise.all(todos.map((todo) => execute(Todo, todo.id, command, {}))),
    );
  };
  const clearCompleted = () => {
    for (const todo of completed) runCommand(execute(Todo, todo.id, 'remove', {}));
  };

  return (
    <>
      {/* Above TodoMVC's title, in the flow: it wraps on a narrow screen and never covers it. */}
      <header className="app-bar">
        <UpdatePrompt />
        <SyncStatus />
      </header>
      <section className="todoapp">
        <NewTodo />
        {/* The app spec: with no todos, .main and .footer are hidden (still in the page). */}
        <section className="main" hidden={todos.length === 0}>
          <input
            id="toggle-all"
            className="toggle-all"
            type="checkbox"
            checked={allCompleted}
            onChange={toggleAll}
          />
          <label htmlFor="toggle-all">Mark all as complete</label>
          <ul className="todo-list">
            {shown.map((todo) => (
              <TodoItem key={todo.id} todo={todo} onShowHistory={setHistoryFor} />
            ))}
          </ul>
        </section>
        <TodoFooter
          hidden={todos.length === 0}
          route={route}
          activeCount={active.length}
          completedCount={completed.length}
          onClearCompleted={clearCompleted}
        />
      </section>
      <RejectedNotice />
      {historyFor !== undefined && (
        <HistoryPanel todoId={historyFor} onClose={() => setHistoryFor(undefined)} />
      )}
      <footer className="info">
        <p>Double-click to edit a todo</p>
        <p>Works offline; open a second tab to see changes follow.</p>
        <DevtoolsToggle />
        <p className="app-version" data-version={APP_VERSION}>
          Version {APP_VERSION}
        </p>
      </footer>
    </>
  );
}
