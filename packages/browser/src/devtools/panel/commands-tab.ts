import { createElement as h, type ReactNode, useMemo } from 'react';
import type { PendingCommandRow, RejectedCommandRow } from '../../database/strata-database.ts';
import type { CommandPage } from '../command-pages.ts';
import type { StrataInspector } from '../inspect-strata.ts';
import { errorStyle, mutedStyle } from './panel-style.ts';
import { Entry, Json, loaded, Note, Pager } from './parts.ts';
import { useLiveResult } from './use-live-result.ts';
import { usePages } from './use-pages.ts';

const PAGE = 50;

/** The outbox: commands executed here and not yet acknowledged, in the order they are pushed. */
export function OutboxTab({ inspector }: { readonly inspector: StrataInspector }): ReactNode {
  const pages = usePages<number>();
  const result = useLiveResult(
    useMemo(
      () => inspector.outbox({ after: pages.cursor, limit: PAGE }),
      [inspector, pages.cursor],
    ),
  );
  return loaded(result, (page: CommandPage<PendingCommandRow>) =>
    h(CommandList, { page, pages, empty: 'Nothing pending: the server has every command.' }),
  );
}

/** Commands the server or a rebase rejected, kept until the app dismisses them. */
export function RejectedTab({ inspector }: { readonly inspector: StrataInspector }): ReactNode {
  const pages = usePages<number>();
  const result = useLiveResult(
    useMemo(
      () => inspector.rejected({ after: pages.cursor, limit: PAGE }),
      [inspector, pages.cursor],
    ),
  );
  return loaded(result, (page: CommandPage<RejectedCommandRow>) =>
    h(CommandList, { page, pages, empty: 'No rejected commands.' }),
  );
}

function CommandList({
  page,
  pages,
  empty,
}: {
  readonly page: CommandPage<PendingCommandRow | RejectedCommandRow>;
  readonly pages: ReturnType<typeof usePages<number>>;
  readonly empty: string;
}): ReactNode {
  return h(
    'div',
    null,
    h(Pager<number>, {
      pages,
      next: page.next,
      shown: page.rows.length,
      total: page.total,
      noun: 'commands',
    }),
    page.rows.length === 0
      ? h(Note, null, empty)
      : page.rows.map((row) => {
          const rejected = 'code' in row ? row : undefined;
          return h(
            Entry,
            {
              key: row.commandId,
              testId: rejected === undefined ? 'outbox' : 'rejected',
              summary: [
                h('span', { key: 'q', style: mutedStyle }, `#${row.seq ?? '?'} `),
                `${row.command} on ${row.aggregateType}/${row.aggregateId}`,
                rejected === undefined
                  ? h('span', { key: 'n', style: mutedStyle }, ` ${row.eventIds.length} events`)
                  : h('span', { key: 'c', style: errorStyle }, ` ${rejected.code}`),
                h(
                  'span',
                  { key: 't', style: mutedStyle },
                  ` ${rejected === undefined ? row.executedAt : rejected.rejectedAt}`,
                ),
              ],
            },
            rejected === undefined ? null : h('p', { style: errorStyle }, rejected.reason),
            h(
              'p',
              { style: { ...mutedStyle, margin: '2px 0' } },
              `command id ${row.commandId}, executed ${row.executedAt}`,
            ),
            h(Json, { label: 'input', value: row.input }),
            h(Json, { label: 'event ids', value: row.eventIds }),
          );
        }),
  );
}
