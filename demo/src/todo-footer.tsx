import type { Route } from './route.ts';

interface TodoFooterProps {
  /** No todos: the footer stays in the page, hidden (TodoMVC's app spec). */
  readonly hidden: boolean;
  readonly route: Route;
  readonly activeCount: number;
  readonly completedCount: number;
  readonly onClearCompleted: () => void;
}

const FILTERS: readonly { readonly route: Route; readonly href: string; readonly label: string }[] =
  [
    { route: 'all', href: '#/', label: 'All' },
    { route: 'active', href: '#/active', label: 'Active' },
    { route: 'completed', href: '#/completed', label: 'Completed' },
  ];

/** The footer: items left, the filters, and "Clear completed", hidden while none is completed. */
export function TodoFooter({
  hidden,
  route,
  activeCount,
  completedCount,
  onClearCompleted,
}: TodoFooterProps) {
  return (
    <footer className="footer" hidden={hidden}>
      <span className="todo-count">
        <strong>{activeCount}</strong> {activeCount === 1 ? 'item' : 'items'} left
      </span>
      <ul className="filters">
        {FILTERS.map((filter) => (
          <li key={filter.route}>
            <a className={filter.route === route ? 'selected' : undefined} href={filter.href}>
              {filter.label}
            </a>
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="clear-completed"
        hidden={completedCount === 0}
        onClick={onClearCompleted}
      >
        Clear completed
      </button>
    </footer>
  );
}
