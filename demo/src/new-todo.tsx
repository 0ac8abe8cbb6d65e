import { useExecute } from '@strata/browser/react';
import { newKsuid } from '@strata/core';
import { Todo, TodoTitle } from '@strata/example-todo';
import { type KeyboardEvent, useState } from 'react';
import { runCommand } from './run-command.ts';

/** The header: the title and the input that adds a todo on Enter. */
export function NewTodo() {
  const execute = useExecute();
  const [title, setTitle] = useState('');

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    // Enter that confirms an IME composition is not a submit.
    if (event.key !== 'Enter' || event.nativeEvent.isComposing) return;
    const trimmed = title.trim();
    if (trimmed === '') return;
    setTitle('');
    runCommand(execute(Todo, newKsuid(), 'add', { title: trimmed }));
  };

  return (
    <header className="header">
      <h1>todos</h1>
      <input
        className="new-todo"
        placeholder="What needs to be done?"
        // biome-ignore lint/a11y/noAutofocus: TodoMVC's specification focuses this input on load.
        autoFocus
        // The domain's limit: a longer title would fail the command after the input was cleared.
        maxLength={TodoTitle.maxLength ?? undefined}
        value={title}
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={onKeyDown}
      />
    </header>
  );
}
