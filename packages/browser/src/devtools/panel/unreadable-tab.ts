import { createElement as h, type ReactNode, useMemo } from 'react';
import type { StrataInspector } from '../inspect-strata.ts';
import type { UnreadablePage } from '../kept-unreadable.ts';
import { errorStyle, mutedStyle } from './panel-style.ts';
import { Entry, Json, loaded, Note, Pager } from './parts.ts';
import { useLiveResult } from './use-live-result.ts';
import { usePages } from './use-pages.ts';

const PAGE = 50;

/** Events a newer app version wrote that this one cannot read, kept unapplied. */
export function UnreadableTab({ inspector }: { readonly inspector: StrataInspector }): ReactNode {
  const pages = usePages<string>();
  const result = useLiveResult(
    useMemo(
      () => inspector.unreadable({ after: pages.cursor, limit: PAGE }),
      [inspector, pages.cursor],
    ),
  );
  return loaded(result, ({ summary, rows, next }: UnreadablePage) => {
    if (summary === undefined) {
      return h(Note, null, 'None: this app version reads every event it holds.');
    }
    return h(
      'div',
      null,
      h(
        'p',
        { style: { ...errorStyle, margin: '4px 0' } },
        `${summary.count} events kept unapplied, holding ${summary.heldAggregates} aggregates ` +
          '(a newer app version wrote them; they apply once this app updates).',
      ),
      h(
        'ul',
        { style: { margin: '0 0 6px 0', paddingLeft: 16 } },
        summary.types.map((type) =>
          h(
            'li',
            { key: `${type.type}\u0000${type.schemaVersion}\u0000${type.code}` },
            `${type.type} schema v${type.schemaVersion}: ${type.count} (${type.code})`,
          ),
        ),
      ),
      h(Pager<string>, {
        pages,
        next,
        shown: rows.length,
        total: summary.count,
        noun: 'kept events',
      }),
      rows.map((row) =>
        h(
          Entry,
          {
            key: row.id,
            testId: 'unreadable',
            summary: [
              `${row.aggregateType}/${row.aggregateId} v${row.version} ${row.type}`,
              h('span', { key: 's', style: mutedStyle }, ` schema v${row.schemaVersion}`),
              h('span', { key: 'c', style: errorStyle }, ` ${row.code}`),
            ],
          },
          h('p', { style: errorStyle }, row.reason),
          h(Json, { label: 'kept row', value: row }),
        ),
      ),
    );
  });
}
