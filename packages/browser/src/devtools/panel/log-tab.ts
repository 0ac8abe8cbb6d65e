import { createElement as h, type ReactNode, useId, useMemo, useState } from 'react';
import type { LogEntry, LogPage } from '../event-log.ts';
import type { StrataInspector } from '../inspect-strata.ts';
import { buttonStyle, inputStyle, mutedStyle, pendingStyle, toolbarStyle } from './panel-style.ts';
import { Entry, Json, loaded, Note, Pager } from './parts.ts';
import { useLiveResult } from './use-live-result.ts';
import { usePages } from './use-pages.ts';

const PAGE = 50;

/** The local event log, newest first, searchable by aggregate type and id prefix. */
export function LogTab({
  inspector,
  onOpenAggregate,
}: {
  readonly inspector: StrataInspector;
  readonly onOpenAggregate: (aggregateType: string, aggregateId: string) => void;
}): ReactNode {
  const [type, setType] = useState('');
  const [idPrefix, setIdPrefix] = useState('');
  const pages = usePages<string>();
  const typeId = useId();
  const idId = useId();
  const types = useLiveResult(useMemo(() => inspector.aggregateTypes(), [inspector]));
  const page = useLiveResult(
    useMemo(
      () =>
        inspector.log({
          aggregateType: type === '' ? undefined : type,
          aggregateId: type === '' || idPrefix === '' ? undefined : idPrefix,
          after: pages.cursor,
          limit: PAGE,
        }),
      [inspector, type, idPrefix, pages.cursor],
    ),
  );
  const typeNames = types?.ok === true ? types.value : [];
  return h(
    'div',
    null,
    h(
      'div',
      { style: toolbarStyle, role: 'search' },
      h('label', { htmlFor: typeId }, 'Aggregate type'),
      h(
        'select',
        {
          id: typeId,
          style: inputStyle,
          value: type,
          onChange: (event: { target: { value: string } }) => {
            setType(event.target.value);
            pages.reset();
          },
        },
        h('option', { value: '' }, 'all types'),
        // A type typed in before the log held it stays selectable.
        ...[...new Set([...typeNames, ...(type === '' ? [] : [type])])].map((name) =>
          h('option', { key: name, value: name }, name),
        ),
      ),
      h('label', { htmlFor: idId }, 'Id starts with'),
      h('input', {
        id: idId,
        style: inputStyle,
        value: idPrefix,
        disabled: type === '',
        placeholder: type === '' ? 'choose a type first' : 'aggregate id',
        onChange: (event: { target: { value: string } }) => {
          setIdPrefix(event.target.value);
          pages.reset();
        },
      }),
    ),
    loaded(page, (value: LogPage) =>
      h(
        'div',
        null,
        h(Pager<string>, {
          pages,
          next: value.next,
          shown: value.entries.length,
          total: value.total,
          noun: 'events',
        }),
        value.entries.length === 0
          ? h(Note, null, 'No events.')
          : value.entries.map((entry) => h(LogRow, { key: entry.id, entry, onOpenAggregate })),
      ),
    ),
  );
}

function LogRow({
  entry,
  onOpenAggregate,
}: {
  readonly entry: LogEntry;
  readonly onOpenAggregate: (aggregateType: string, aggregateId: string) => void;
}): ReactNode {
  return h(
    Entry,
    {
      testId: 'log',
      summary: [
        h('span', { key: 'p', style: mutedStyle }, `#${entry.position} `),
        `${entry.aggregateType}/${entry.aggregateId} v${entry.version} ${entry.type}`,
        h(
          'span',
          { key: 's', style: entry.status === 'pending' ? pendingStyle : mutedStyle },
          ` ${entry.status}`,
        ),
        h('span', { key: 't', style: mutedStyle }, ` ${entry.occurredAt}`),
      ],
    },
    h(
      'div',
      { style: toolbarStyle },
      h(
        'button',
        {
          type: 'button',
          style: buttonStyle,
          onClick: () => onOpenAggregate(entry.aggregateType, entry.aggregateId),
        },
        'Open aggregate',
      ),
      h(
        'span',
        { style: mutedStyle },
        `id ${entry.id}, schema v${entry.schemaVersion}` +
          (entry.serverPosition === undefined ? '' : `, server position ${entry.serverPosition}`),
      ),
    ),
    h(Json, { label: 'data', value: entry.data }),
    h(Json, { label: 'metadata', value: entry.metadata }),
  );
}
