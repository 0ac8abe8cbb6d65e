import { useExecute } from '@strata/browser/react';
import { Todo, TodoTitle } from '@strata/example-todo';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { runCommand } from './run-command.ts';
import type { TodoRow } from './todo-list.ts';
import { useChoice } from './use-choice.ts';

interface TodoItemProps {
  readonly todo: TodoRow;
  readonly onShowHistory: (id: string) => void;
}

/** One todo: toggle, double-click to edit (Enter or blur saves, Escape cancels), destroy. */
export function TodoItem({ todo, onShowHistory }: TodoItemProps) {
  const execute = useExecute();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(todo.title);
  // Enter (or Escape) ends the edit, and the input's removal may then blur it: only the first
  // of these may act, and the state update has not landed by then, hence a ref.
  const editingNow = useRef(false);
  const input = useRef<HTMLInputElement>(null);
  const [completed, chooseCompleted] = useChoice(todo.status === 'completed', todo);

  useEffect(() => {
    if (editing) input.current?.focus();
  }, [editing]);

  const startEditing = () => {
    editingNow.current = true;
    setDraft(todo.title);
    setEditing(true);
  };
  const stopEditing = () => {
    editingNow.current = false;
    setEditing(false);
  };
  const save = () => {
    if (!editingNow.current) return;
    stopEditing();
    const title = draft.trim();
    if (title === '') runCommand(execute(Todo, todo.id, 'remove', {}));
    else if (title !== todo.title) runCommand(execute(Todo, todo.id, 'rename', { title }));
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' && !event.nativeEvent.isComposing) save();
    else if (event.key === 'Escape') stopEditing();
  };

  const className = [completed ? 'completed' : '', editing ? 'editing' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li className={className || undefined} data-id={todo.id}>
      <div className="view">
        <input
          className="toggle"
          type="checkbox"
          checked={completed}
          onChange={() =>
            chooseCompleted(
              !completed,
              execute(Todo, todo.id, completed ? 'reopen' : 'complete', {}),
            )
          }
        />
        {/* biome-ignore lint/a11y/noLabelWithoutControl: TodoMVC's markup; tying the label to the checkbox would make a double-click toggle it. */}
        <label onDoubleClick={startEditing}>{todo.title}</label>
        <button
          type="button"
          className="history"
          aria-label={`History of ${todo.title}`}
          title="History"
          onClick={() => onShowHistory(todo.id)}
        />
        <button
          type="button"
          className="destroy"
          aria-label={`Delete ${todo.title}`}
          onClick={() => runCommand(execute(Todo, todo.id, 'remove', {}))}
        />
      </div>
      {editing && (
        <input
          ref={input}
          className="edit"
          maxLength={TodoTitle.maxLength ?? undefined}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onBlur={save}
          onKeyDown={onKeyDown}
        />
      )}
    </li>
  );
}
