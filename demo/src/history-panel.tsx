import { useAggregateState, useHistory } from '@strata/browser/react';
import { Todo } from '@strata/example-todo';

interface HistoryPanelProps {
  readonly todoId: string;
  readonly onClose: () => void;
}

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

/** A todo's events, live: what event sourcing keeps that a plain list would not. */
export function HistoryPanel({ todoId, onClose }: HistoryPanelProps) {
  const events = useHistory(Todo, todoId);
  const title = useAggregateState(Todo, todoId)?.state.title;
  return (
    <aside className="history" data-todo-id={todoId} aria-label="History">
      <header>
        <h2>History{title ? `: ${title}` : ''}</h2>
        <button
          type="button"
          className="history-close"
          aria-label="Close history"
          onClick={onClose}
        >
          ×
        </button>
      </header>
      {events === undefined ? (
        <p>Loading…</p>
      ) : (
        <ol>
          {events.map((event) => (
            <li key={event.id} className="history-event" data-type={event.type}>
              <span className="history-type">{event.type}</span>{' '}
              <span className="history-version">v{event.version}</span>{' '}
              <time dateTime={event.occurredAt}>{time.format(new Date(event.occurredAt))}</time>
              <code className="history-data">{JSON.stringify(event.data)}</code>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
