import { useAggregateState, useHistory } from '@strata/browser/react';
import { Todo } from '@strata/example-todo';
import { useEffect, useRef } from 'react';
import { humanTime } from './human-time.ts';
import { useNow } from './use-now.ts';

interface HistoryPanelProps {
  readonly todoId: string;
  readonly onClose: () => void;
}

/**
 * A todo's events, live: what event sourcing keeps that a plain list would not. It opens in view:
 * scrolled to when it opens (below the list on a wide screen), a sheet at the bottom of a phone's
 * screen (app.css).
 */
export function HistoryPanel({ todoId, onClose }: HistoryPanelProps) {
  const events = useHistory(Todo, todoId);
  const title = useAggregateState(Todo, todoId)?.state.title;
  const now = useNow();
  const panel = useRef<HTMLElement>(null);
  const loaded = events !== undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: again when another todo's history opens, and when its events arrive (the panel grows then).
  useEffect(() => {
    panel.current?.scrollIntoView({ block: 'nearest' });
  }, [todoId, loaded]);
  return (
    <aside ref={panel} className="history" data-todo-id={todoId} aria-label="History">
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
              <EventTime iso={event.occurredAt} now={now} />
              <code className="history-data">{JSON.stringify(event.data)}</code>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

/** "5 minutes ago", with the date and time in its tooltip. */
function EventTime({ iso, now }: { readonly iso: string; readonly now: Date }) {
  const time = humanTime(iso, now);
  return (
    <time dateTime={iso} title={time.absolute}>
      {time.relative}
    </time>
  );
}
