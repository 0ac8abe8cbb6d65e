// The devtools panel in real Chromium, rendered with React over a live runtime: the log, the
// outbox, rejected commands and the sync status follow what the app does; event data with
// markup in it stays text; a 100k-event log is read a page at a time; the keyboard works; the
// app's layout does not move. (Against the real edge server: test/e2e/devtools.e2e.test.ts.)
import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { act, createElement, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { countRowsRead } from '../../../test/fixtures/rows-read.ts';
import { todoList, todoTables } from '../../../test/fixtures/todo-list.ts';
import type { EventRow, RejectedCommandRow } from '../../database/strata-database.ts';
import { createStrata, type Strata } from '../../runtime/create-strata.ts';
import { startSync } from '../../sync/start-sync.ts';
import { StrataDevtools, type StrataDevtoolsProps } from '../index.ts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openStrata(): Promise<Strata> {
  const strata = await createStrata({
    name: `devtools-panel-${newKsuid()}`,
    tables: todoTables,
    projections: [todoList],
  });
  cleanups.push(async () => {
    strata.close();
    await strata.db.delete();
  });
  return strata;
}

async function render(element: ReactNode) {
  const container = document.createElement('div');
  document.body.append(container);
  const root: Root = createRoot(container);
  await act(() => root.render(element));
  cleanups.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  return container;
}

async function eventually(assertion: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
  }
}

const AGGREGATES = [Todo];

function devtools(props: Omit<StrataDevtoolsProps, 'aggregates'>) {
  return createElement(StrataDevtools, { aggregates: AGGREGATES, defaultOpen: true, ...props });
}

const panelOf = (container: HTMLElement) => {
  const panel = container.querySelector<HTMLElement>('[data-strata-devtools]');
  if (panel === null) throw new Error('the panel is not open');
  return panel;
};
const tab = (container: HTMLElement, label: string) => {
  const found = [...panelOf(container).querySelectorAll<HTMLElement>('[role="tab"]')].find(
    (element) => element.textContent === label,
  );
  if (found === undefined) throw new Error(`no tab ${label}`);
  return found;
};
const entries = (container: HTMLElement, kind: string) =>
  [...container.querySelectorAll(`[data-devtools-entry="${kind}"] > summary`)].map(
    (summary) => summary.textContent ?? '',
  );
const statusField = (container: HTMLElement, name: string) =>
  container.querySelector(`[data-status="${name}"]`)?.textContent;

/** A sync client whose server never answers: requests fail, commands stay pending. */
function unreachableSync(strata: Strata) {
  const sync = startSync(strata, {
    url: 'http://127.0.0.1:9/',
    aggregates: [Todo],
    locks: null,
    backoff: { initialDelayMs: 20, maxDelayMs: 50 },
    fetch: async () => {
      throw new TypeError('Failed to fetch');
    },
  });
  cleanups.push(() => sync.stop());
  return sync;
}

describe('StrataDevtools in Chromium', () => {
  it('log, outbox, rejected and status follow the app live', async () => {
    const strata = await openStrata();
    const sync = unreachableSync(strata);
    const container = await render(devtools({ strata, sync }));
    await eventually(() => expect(panelOf(container).textContent).toContain('No events.'));

    const id = newKsuid();
    await act(() => strata.execute(Todo, id, 'add', { title: 'Buy milk' }));
    await act(() => strata.execute(Todo, id, 'rename', { title: 'Buy oat milk' }));
    await eventually(() =>
      expect(entries(container, 'log')).toEqual([
        expect.stringContaining(`Todo/${id} v2 TodoRenamed pending`),
        expect.stringContaining(`Todo/${id} v1 TodoAdded pending`),
      ]),
    );

    await act(async () => tab(container, 'Outbox').click());
    await eventually(() => expect(entries(container, 'outbox')).toHaveLength(2));
    expect(entries(container, 'outbox')[0]).toContain(`add on Todo/${id}`);
    await act(() => strata.execute(Todo, newKsuid(), 'add', { title: 'Walk dog' }));
    await eventually(() => expect(entries(container, 'outbox')).toHaveLength(3));
    expect(panelOf(container).textContent).toContain('3 shown of 3 commands');

    await act(async () => tab(container, 'Rejected').click());
    await eventually(() =>
      expect(panelOf(container).textContent).toContain('No rejected commands.'),
    );
    // What a rebase records when the server's state refuses a pending command again.
    const seq = await strata.db.rejected.add({
      commandId: newKsuid(),
      aggregateType: 'Todo',
      aggregateId: id,
      command: 'complete',
      input: {},
      metadata: {},
      eventIds: [],
      executedAt: new Date().toISOString(),
      code: 'DOMAIN_RULE_VIOLATED',
      reason: 'This todo was removed',
      rejectedAt: new Date().toISOString(),
    } satisfies RejectedCommandRow);
    await eventually(() =>
      expect(entries(container, 'rejected')).toEqual([
        expect.stringContaining(`complete on Todo/${id} DOMAIN_RULE_VIOLATED`),
      ]),
    );
    await act(() => sync.dismissRejected(seq));
    await eventually(() => expect(entries(container, 'rejected')).toEqual([]));

    await act(async () => tab(container, 'Status').click());
    await eventually(() => {
      expect(statusField(container, 'pending')).toBe('3');
      expect(statusField(container, 'leader')).toBe('yes, this tab syncs');
      expect(statusField(container, 'last error')).toMatch(/UNAVAILABLE|Failed to fetch/);
    });
    await act(() => strata.execute(Todo, newKsuid(), 'add', { title: 'A fourth' }));
    await eventually(() => expect(statusField(container, 'pending')).toBe('4'));

    await act(async () => tab(container, 'Timeline').click());
    await eventually(() => {
      const kinds = [...container.querySelectorAll('[data-activity]')].map((li) =>
        li.getAttribute('data-activity'),
      );
      // Newest first: the failed requests after this tab took the lead.
      expect(kinds.at(-1)).toBe('leader');
      expect(kinds).toContain('error');
    });

    await act(async () => tab(container, 'Unreadable').click());
    await eventually(() => expect(panelOf(container).textContent).toMatch(/None:/));
    // What version-skew handling keeps of an event a newer app version wrote.
    await strata.db.unreadable.add({
      id: newKsuid(),
      aggregateType: 'Todo',
      aggregateId: id,
      version: 3,
      type: 'TodoStarred',
      schemaVersion: 1,
      code: 'UNKNOWN_EVENT_TYPE',
      reason: 'Unknown event type "TodoStarred"',
      serverPosition: 7,
      keptAt: new Date().toISOString(),
    });
    await eventually(() => {
      expect(panelOf(container).textContent).toContain(
        '1 events kept unapplied, holding 1 aggregates',
      );
      expect(entries(container, 'unreadable')).toEqual([
        expect.stringContaining(`Todo/${id} v3 TodoStarred schema v1 UNKNOWN_EVENT_TYPE`),
      ]);
    });
    await act(async () => tab(container, 'Status').click());
    await eventually(() =>
      expect(statusField(container, 'unreadable')).toContain('1 events a newer app version wrote'),
    );
  });

  it('in a tab that does not sync, says another tab syncs instead of showing an empty timeline', async () => {
    const strata = await openStrata();
    // The Web Lock is another tab's: this one never gets it.
    const sync = startSync(strata, {
      url: 'http://127.0.0.1:9/',
      aggregates: [Todo],
      locks: {
        request: (_name, { signal }) =>
          new Promise((_granted, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason));
          }),
      },
    });
    cleanups.push(() => sync.stop());
    const container = await render(devtools({ strata, sync, defaultTab: 'timeline' }));
    await eventually(() =>
      expect(panelOf(container).textContent).toContain(
        'Another tab syncs: only the syncing tab records pushes, pulls and reconnects.',
      ),
    );
    expect(container.querySelectorAll('[data-activity]')).toHaveLength(0);
    await act(async () => tab(container, 'Status').click());
    await eventually(() => expect(statusField(container, 'leader')).toBe('no'));
    expect(panelOf(container).textContent).toContain('Another tab syncs (it holds the Web Lock)');
  });

  it('searches the log by aggregate, opens an aggregate and shows its state and history', async () => {
    const strata = await openStrata();
    const container = await render(devtools({ strata }));
    for (const id of ['alpha-1', 'alpha-2', 'beta-1']) {
      await act(() => strata.execute(Todo, id, 'add', { title: `todo ${id}` }));
    }
    await act(() => strata.execute(Todo, 'alpha-2', 'complete', {}));
    await eventually(() => expect(entries(container, 'log')).toHaveLength(4));

    const [select, input] = [
      panelOf(container).querySelector('select'),
      panelOf(container).querySelector('input'),
    ];
    if (select === null || input === null) throw new Error('no search form');
    expect(input.disabled).toBe(true);
    await eventually(() => expect(select.options.length).toBe(2));
    await act(() => userEvent.selectOptions(select, 'Todo'));
    await act(() => userEvent.fill(input, 'alpha'));
    await eventually(() =>
      expect(
        entries(container, 'log').map((line) => line.split(' ').slice(1, 4).join(' ')),
      ).toEqual([
        'Todo/alpha-2 v2 TodoCompleted',
        'Todo/alpha-2 v1 TodoAdded',
        'Todo/alpha-1 v1 TodoAdded',
      ]),
    );

    const first = container.querySelector<HTMLDetailsElement>('[data-devtools-entry="log"]');
    await act(async () => first?.querySelector('summary')?.click());
    const open = [...(first?.querySelectorAll('button') ?? [])].find(
      (button) => button.textContent === 'Open aggregate',
    );
    await act(async () => open?.click());
    await eventually(() => {
      const view = container.querySelector('[data-devtools="aggregate"]');
      expect(view?.querySelector('h3')?.textContent).toBe('Todo/alpha-2 at version 2');
      expect(JSON.parse(view?.querySelector('pre')?.textContent ?? 'null')).toEqual({
        status: 'completed',
        title: 'todo alpha-2',
      });
    });
    expect(tab(container, 'Aggregate').getAttribute('aria-selected')).toBe('true');
    await act(() => strata.execute(Todo, 'alpha-2', 'reopen', {}));
    await eventually(() => {
      expect(entries(container, 'history')[0]).toContain('v3 TodoReopened');
      const state = container.querySelector('[data-devtools="aggregate"] pre')?.textContent;
      expect(JSON.parse(state ?? 'null')).toMatchObject({ status: 'active' });
    });
  });

  it('shows hostile event data as text: no markup runs, huge payloads are cut', async () => {
    const strata = await openStrata();
    const hostile = {
      title: '<img src=x onerror="window.__devtoolsInjected=1">',
      script: '</pre></details><script>window.__devtoolsInjected=2</script>',
      unicode: 'a\u0000b\u202e\ud800\udfff\ud800 \u{1F600}',
      huge: 'x'.repeat(2_000_000),
      many: Array.from({ length: 5000 }, (_, index) => `<b>${index}</b>`),
      deep: JSON.parse(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}`) as unknown,
      '<svg onload=alert(1)>': true,
    };
    // As a newer app version's server could send it: any data, any type.
    await strata.db.events.add({
      id: newKsuid(),
      type: 'Todo<img src=x onerror=alert(1)>',
      schemaVersion: 9,
      aggregateType: 'Todo',
      aggregateId: '<b>bold</b>',
      version: 1,
      occurredAt: '2026-12-03T12:00:00.000Z',
      recordedAt: '2026-12-03T12:00:00.000Z',
      data: hostile,
      metadata: { note: '<iframe src="javascript:alert(1)">' },
      pending: 0,
    } as unknown as EventRow);
    const container = await render(devtools({ strata }));
    await eventually(() => expect(entries(container, 'log')).toHaveLength(1));
    const row = container.querySelector<HTMLDetailsElement>('[data-devtools-entry="log"]');
    await act(async () => row?.querySelector('summary')?.click());
    await eventually(() => expect(row?.querySelectorAll('pre')).toHaveLength(2));

    const panel = panelOf(container);
    expect(panel.querySelectorAll('img, script, svg, iframe, b').length).toBe(0);
    expect((window as { __devtoolsInjected?: number }).__devtoolsInjected).toBeUndefined();
    expect(entries(container, 'log')[0]).toContain(
      'Todo/<b>bold</b> v1 Todo<img src=x onerror=alert(1)>',
    );
    const data = row?.querySelector('pre')?.textContent ?? '';
    expect(data).toContain('"title": "<img src=x onerror=\\"window.__devtoolsInjected=1\\">"');
    expect(data).toContain('…(1998000 more characters)');
    // The whole text stays bounded: 2 MB of payload is not 2 MB of DOM.
    expect(panel.textContent?.length).toBeLessThan(50_000);

    // The aggregate view too: the event does not decode, and says so.
    const open = [...(row?.querySelectorAll('button') ?? [])].find(
      (button) => button.textContent === 'Open aggregate',
    );
    await act(async () => open?.click());
    await eventually(() => expect(panel.textContent).toContain('State cannot be loaded'));
    expect(entries(container, 'history')[0]).toContain('unreadable by this version');
    expect(panel.querySelectorAll('img, script, svg, iframe, b').length).toBe(0);
  });

  it('opens on a 100k-event log reading a page of it, not the log', async () => {
    const strata = await openStrata();
    const rows: EventRow[] = [];
    for (let i = 0; i < 100_000; i++) {
      rows.push({
        id: newKsuid(),
        type: 'TodoRenamed',
        schemaVersion: 1,
        aggregateType: i % 10 === 0 ? 'Note' : 'Todo',
        aggregateId: `a${Math.floor(i / 100)}`,
        version: (i % 100) + 1,
        occurredAt: '2026-12-03T12:00:00.000Z',
        recordedAt: '2026-12-03T12:00:00.000Z',
        data: { title: `title ${i}` },
        metadata: {},
        pending: 0,
      } as unknown as EventRow);
    }
    const writing = performance.now();
    await strata.db.events.bulkAdd(rows);
    // Writing them is the slow part (~1 to 2k rows/s here with the log's unique indexes).
    console.info(`[devtools] wrote 100k events in ${(performance.now() - writing).toFixed(0)} ms`);
    const counter = countRowsRead();
    cleanups.push(() => counter.restore());
    const started = performance.now();
    const container = await render(devtools({ strata }));
    await eventually(() => expect(entries(container, 'log')).toHaveLength(50), 60_000);
    const firstPageMs = performance.now() - started;
    expect(panelOf(container).textContent).toContain('50 shown of 100000 events');
    // The page and the row after it; two aggregate types found by two index reads.
    expect(counter.rows).toBeLessThanOrEqual(51 + 2);
    expect(entries(container, 'log')[0]).toContain('Todo/a999 v100');

    counter.reset();
    const next = [...panelOf(container).querySelectorAll('button')].find(
      (button) => button.textContent === 'Next →',
    );
    await act(async () => next?.click());
    await eventually(() => expect(entries(container, 'log')[0]).toContain('Todo/a999 v50'));
    expect(counter.rows).toBeLessThanOrEqual(51 + 2);
    console.info(`[devtools] first page of a 100k-event log in ${firstPageMs.toFixed(0)} ms`);
    // Generous: the read is a page and a count, not 100k rows (which takes seconds here).
    expect(firstPageMs).toBeLessThan(3000);
  }, 300_000);

  it('is keyboard accessible and takes no room in the app’s layout', async () => {
    const strata = await openStrata();
    const app = document.createElement('main');
    app.style.cssText = 'display: block; height: 200px;';
    app.textContent = 'the app';
    document.body.prepend(app);
    cleanups.push(() => app.remove());
    const before = app.getBoundingClientRect().toJSON();
    const container = await render(createElement(StrataDevtools, { strata }));

    const toggle = container.querySelector('button');
    expect(toggle?.textContent).toBe('strata devtools');
    expect(toggle?.getAttribute('aria-expanded')).toBe('false');
    toggle?.focus();
    await act(() => userEvent.keyboard('{Enter}'));
    await eventually(() => panelOf(container));
    expect(getComputedStyle(panelOf(container)).position).toBe('fixed');
    expect(app.getBoundingClientRect().toJSON()).toEqual(before);

    tab(container, 'Log').focus();
    await act(() => userEvent.keyboard('{ArrowRight}'));
    expect(document.activeElement?.textContent).toBe('Aggregate');
    expect(tab(container, 'Aggregate').getAttribute('aria-selected')).toBe('true');
    await act(() => userEvent.keyboard('{End}'));
    expect(document.activeElement?.textContent).toBe('Timeline');
    await act(() => userEvent.keyboard('{ArrowRight}'));
    expect(document.activeElement?.textContent).toBe('Log');
    // One tab stop for the tab list.
    const stops = [...panelOf(container).querySelectorAll('[role="tab"]')].filter(
      (element) => element.getAttribute('tabindex') === '0',
    );
    expect(stops.map((element) => element.textContent)).toEqual(['Log']);

    // Only overlaid: the container takes no height, unless asked to reserve the panel's room.
    expect(container.getBoundingClientRect().height).toBe(0);
    const reserving = await render(
      createElement(StrataDevtools, { strata, defaultOpen: true, reserveSpace: true }),
    );
    expect(reserving.getBoundingClientRect().height).toBeCloseTo(window.innerHeight * 0.45, 0);
    tab(container, 'Log').focus();

    await act(() => userEvent.keyboard('{Escape}'));
    await eventually(() => {
      expect(container.querySelector('[data-strata-devtools]')).toBeNull();
      expect(document.activeElement?.textContent).toBe('strata devtools');
    });
  });
});
