import type { AnyAggregateDefinition } from '@strata/core';
import {
  Fragment,
  createElement as h,
  type KeyboardEvent,
  type ReactNode,
  useId,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { Strata } from '../../runtime/create-strata.ts';
import type { SyncClient } from '../../sync/start-sync.ts';
import { inspectStrata, type StrataInspector } from '../inspect-strata.ts';
import { type AggregateChoice, AggregateTab } from './aggregate-tab.ts';
import { OutboxTab, RejectedTab } from './commands-tab.ts';
import { LogTab } from './log-tab.ts';
import {
  bodyStyle,
  buttonStyle,
  headerStyle,
  panelStyle,
  tabStyle,
  toggleStyle,
} from './panel-style.ts';
import { StatusTab, TimelineTab } from './sync-tabs.ts';
import { UnreadableTab } from './unreadable-tab.ts';

/** The panel's sections. */
export type DevtoolsTab =
  | 'log'
  | 'aggregate'
  | 'outbox'
  | 'rejected'
  | 'unreadable'
  | 'status'
  | 'timeline';

const TABS: readonly { readonly id: DevtoolsTab; readonly label: string }[] = [
  { id: 'log', label: 'Log' },
  { id: 'aggregate', label: 'Aggregate' },
  { id: 'outbox', label: 'Outbox' },
  { id: 'rejected', label: 'Rejected' },
  { id: 'unreadable', label: 'Unreadable' },
  { id: 'status', label: 'Status' },
  { id: 'timeline', label: 'Timeline' },
];

/** Props of `StrataDevtools`. */
export interface StrataDevtoolsProps {
  /** The runtime to inspect (`createStrata`). */
  readonly strata: Strata;
  /** Its sync client (`startSync`), for the Status and Timeline tabs. */
  readonly sync?: SyncClient | undefined;
  /**
   * The app's aggregate definitions, to show states and decode events. Pass a module-level
   * array: a new one makes a new inspector (and new subscriptions).
   */
  readonly aggregates?: readonly AnyAggregateDefinition[] | undefined;
  /** Open when first shown. Defaults to false (only the small toggle button shows). */
  readonly defaultOpen?: boolean | undefined;
  /** The tab shown first. Defaults to `log`. */
  readonly defaultTab?: DevtoolsTab | undefined;
  /**
   * While open, also take the panel's height in the page where the component is rendered, so
   * what it covers at the end of the page can be scrolled above it. For a panel rendered last
   * in the page (e.g. in a footer). Defaults to false: the panel only overlays the app.
   */
  readonly reserveSpace?: boolean | undefined;
}

/**
 * A devtools panel for any strata app: the local log (search by aggregate), an aggregate's
 * history and current state, the outbox, rejected and kept-unreadable events, sync status and
 * this tab's sync timeline, all live. Fixed to the bottom of the window (it takes no room in
 * the app's layout) behind a small toggle button; only the open tab reads, a page at a time.
 * Keyboard: Tab to the toggle, Enter; arrow keys, Home and End move between tabs; Escape
 * closes. Everything shown is text: event data cannot inject markup.
 *
 * @example
 * createRoot(element).render(
 *   createElement(Fragment, null,
 *     createElement(App),
 *     createElement(StrataDevtools, { strata, sync, aggregates: [Todo] })),
 * );
 */
export function StrataDevtools({
  strata,
  sync,
  aggregates,
  defaultOpen = false,
  defaultTab = 'log',
  reserveSpace = false,
}: StrataDevtoolsProps): ReactNode {
  const [open, setOpen] = useState(defaultOpen);
  const [tab, setTab] = useState<DevtoolsTab>(defaultTab);
  const [aggregate, setAggregate] = useState<AggregateChoice | undefined>();
  const inspector = useMemo(
    () => inspectStrata(strata, { sync, aggregates }),
    [strata, sync, aggregates],
  );
  const toggleRef = useRef<HTMLButtonElement>(null);
  const tabRefs = useRef(new Map<DevtoolsTab, HTMLButtonElement>());
  const panelId = useId();
  const tabId = (id: DevtoolsTab) => `${panelId}-tab-${id}`;

  const close = () => {
    setOpen(false);
    // Back where the keyboard user was: the toggle, rendered again on close.
    queueMicrotask(() => toggleRef.current?.focus());
  };
  const select = (id: DevtoolsTab) => {
    setTab(id);
    tabRefs.current.get(id)?.focus();
  };
  const onTabKey = (event: KeyboardEvent) => {
    const index = TABS.findIndex((candidate) => candidate.id === tab);
    const to = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: TABS.length - 1,
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const next = TABS[(to + TABS.length) % TABS.length];
    if (next !== undefined) select(next.id);
  };

  if (!open) {
    return h(
      'button',
      {
        ref: toggleRef,
        type: 'button',
        style: toggleStyle,
        'aria-expanded': false,
        'aria-controls': panelId,
        onClick: () => setOpen(true),
      },
      'strata devtools',
    );
  }
  const panel = h(
    'section',
    {
      id: panelId,
      style: panelStyle,
      'aria-label': 'strata devtools',
      'data-strata-devtools': '',
      onKeyDown: (event: KeyboardEvent) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          close();
        }
      },
    },
    h(
      'div',
      { style: headerStyle },
      h('strong', null, 'strata'),
      h(
        'div',
        { role: 'tablist', 'aria-label': 'strata devtools sections', onKeyDown: onTabKey },
        TABS.map(({ id, label }) =>
          h(
            'button',
            {
              key: id,
              ref: (element: HTMLButtonElement | null) => {
                if (element === null) tabRefs.current.delete(id);
                else tabRefs.current.set(id, element);
              },
              type: 'button',
              role: 'tab',
              id: tabId(id),
              'aria-selected': tab === id,
              'aria-controls': `${panelId}-panel`,
              // One tab stop for the list: the arrow keys move within it.
              tabIndex: tab === id ? 0 : -1,
              style: tabStyle(tab === id),
              onClick: () => setTab(id),
            },
            label,
          ),
        ),
      ),
      h(
        'button',
        {
          type: 'button',
          style: { ...buttonStyle, marginLeft: 'auto' },
          'aria-label': 'Close strata devtools',
          onClick: close,
        },
        'Close',
      ),
    ),
    h(
      'div',
      {
        id: `${panelId}-panel`,
        role: 'tabpanel',
        'aria-labelledby': tabId(tab),
        tabIndex: 0,
        style: bodyStyle,
      },
      tabContent(tab, inspector, aggregate, (choice) => {
        setAggregate(choice);
        setTab('aggregate');
      }),
    ),
  );
  if (!reserveSpace) return panel;
  return h(
    Fragment,
    null,
    h('div', { 'aria-hidden': true, style: { height: panelStyle.height } }),
    panel,
  );
}

function tabContent(
  tab: DevtoolsTab,
  inspector: StrataInspector,
  aggregate: AggregateChoice | undefined,
  openAggregate: (choice: AggregateChoice) => void,
): ReactNode {
  switch (tab) {
    case 'log':
      return h(LogTab, {
        inspector,
        onOpenAggregate: (aggregateType, aggregateId) =>
          openAggregate({ aggregateType, aggregateId }),
      });
    case 'aggregate':
      return h(AggregateTab, {
        // A choice made elsewhere (the log) fills the form again.
        key:
          aggregate === undefined ? '' : `${aggregate.aggregateType}\u0000${aggregate.aggregateId}`,
        inspector,
        choice: aggregate,
        onChoose: openAggregate,
      });
    case 'outbox':
      return h(OutboxTab, { inspector });
    case 'rejected':
      return h(RejectedTab, { inspector });
    case 'unreadable':
      return h(UnreadableTab, { inspector });
    case 'status':
      return h(StatusTab, { inspector });
    case 'timeline':
      return h(TimelineTab, { inspector });
  }
}
