import { createElement as h, type ReactNode, useId, useMemo, useState } from 'react';
import type { AggregateInspection, StrataInspector } from '../inspect-strata.ts';
import {
  buttonStyle,
  errorStyle,
  inputStyle,
  mutedStyle,
  pendingStyle,
  toolbarStyle,
} from './panel-style.ts';
import { Entry, Json, loaded, Note, Pager } from './parts.ts';
import { useLiveResult } from './use-live-result.ts';
import { usePages } from './use-pages.ts';

const PAGE = 50;

/** Which aggregate the tab shows. */
export interface AggregateChoice {
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/** One aggregate: its current state (with its definition) and its history, newest first. */
export function AggregateTab({
  inspector,
  choice,
  onChoose,
}: {
  readonly inspector: StrataInspector;
  readonly choice: AggregateChoice | undefined;
  readonly onChoose: (choice: AggregateChoice) => void;
}): ReactNode {
  const [type, setType] = useState(choice?.aggregateType ?? '');
  const [id, setId] = useState(choice?.aggregateId ?? '');
  const typeId = useId();
  const idId = useId();
  const types = useLiveResult(useMemo(() => inspector.aggregateTypes(), [inspector]));
  const typeNames = types?.ok === true ? types.value : [];
  return h(
    'div',
    null,
    h(
      'form',
      {
        style: toolbarStyle,
        role: 'search',
        onSubmit: (event: { preventDefault(): void }) => {
          event.preventDefault();
          if (type !== '' && id !== '') onChoose({ aggregateType: type, aggregateId: id });
        },
      },
      h('label', { htmlFor: typeId }, 'Type'),
      h(
        'select',
        {
          id: typeId,
          style: inputStyle,
          value: type,
          onChange: (event: { target: { value: string } }) => setType(event.target.value),
        },
        h('option', { value: '' }, 'choose'),
        ...[...new Set([...typeNames, ...(type === '' ? [] : [type])])].map((name) =>
          h('option', { key: name, value: name }, name),
        ),
      ),
      h('label', { htmlFor: idId }, 'Id'),
      h('input', {
        id: idId,
        style: inputStyle,
        value: id,
        onChange: (event: { target: { value: string } }) => setId(event.target.value),
      }),
      h(
        'button',
        { type: 'submit', style: buttonStyle, disabled: type === '' || id === '' },
        'Show',
      ),
    ),
    choice === undefined
      ? h(Note, null, 'Choose an aggregate, or open one from the log.')
      : h(AggregateView, {
          key: `${choice.aggregateType}\u0000${choice.aggregateId}`,
          inspector,
          choice,
        }),
  );
}

function AggregateView({
  inspector,
  choice,
}: {
  readonly inspector: StrataInspector;
  readonly choice: AggregateChoice;
}): ReactNode {
  const pages = usePages<number>();
  const result = useLiveResult(
    useMemo(
      () =>
        inspector.aggregate(choice.aggregateType, choice.aggregateId, {
          beforeVersion: pages.cursor,
          limit: PAGE,
        }),
      [inspector, choice, pages.cursor],
    ),
  );
  return loaded(result, (view: AggregateInspection) =>
    h(
      'div',
      { 'data-devtools': 'aggregate' },
      h(
        'h3',
        { style: { font: 'inherit', fontWeight: 'bold', margin: '4px 0' } },
        `${view.aggregateType}/${view.aggregateId} at version ${view.version}`,
      ),
      view.version === 0 ? h(Note, null, 'This device holds no events of it.') : null,
      view.stateError !== undefined
        ? h('p', { style: errorStyle }, `State cannot be loaded: ${view.stateError}`)
        : view.known
          ? h(Json, { label: 'current state', value: view.state })
          : h(
              Note,
              null,
              'Its definition was not given to the devtools (`aggregates`): history only.',
            ),
      h(Pager<number>, {
        pages,
        next: view.nextBeforeVersion,
        shown: view.entries.length,
        total: view.version,
        noun: 'versions',
      }),
      view.entries.map((entry) =>
        h(
          Entry,
          {
            key: entry.id,
            testId: 'history',
            summary: [
              `v${entry.version} ${entry.type}`,
              h(
                'span',
                { key: 's', style: entry.status === 'pending' ? pendingStyle : mutedStyle },
                ` ${entry.status}`,
              ),
              entry.decodeError === undefined
                ? null
                : h('span', { key: 'e', style: errorStyle }, ' unreadable by this version'),
              h('span', { key: 't', style: mutedStyle }, ` ${entry.occurredAt}`),
            ],
          },
          entry.decodeError === undefined ? null : h('p', { style: errorStyle }, entry.decodeError),
          h(Json, { label: 'data', value: entry.data }),
          h(Json, { label: 'metadata', value: entry.metadata }),
        ),
      ),
    ),
  );
}
