import { createElement as h, type ReactNode, useMemo } from 'react';
import type { SyncActivityEntry } from '../../sync/sync-activity.ts';
import type { SyncStatus } from '../../sync/sync-status.ts';
import type { StrataInspector } from '../inspect-strata.ts';
import { errorStyle, mutedStyle } from './panel-style.ts';
import { Json, loaded, Note } from './parts.ts';
import { useLiveResult } from './use-live-result.ts';

const NO_SYNC = 'No sync client was given to the devtools (`sync`): this app only works locally.';

/** The sync status, as every tab of the database shares it (and this tab's own part). */
export function StatusTab({ inspector }: { readonly inspector: StrataInspector }): ReactNode {
  const result = useLiveResult(inspector.status);
  if (inspector.status === undefined) return h(Note, null, NO_SYNC);
  return loaded(result, (status: SyncStatus) =>
    h(
      'div',
      null,
      status.leader
        ? null
        : h(
            Note,
            null,
            'Another tab syncs (it holds the Web Lock); this one shows the status it shares.',
          ),
      h(
        'dl',
        {
          style: {
            display: 'grid',
            gridTemplateColumns: 'max-content 1fr',
            gap: '2px 12px',
            margin: 0,
          },
        },
        ...fields(status).flatMap(([name, value]) => [
          h('dt', { key: `${name}-t`, style: mutedStyle }, name),
          h('dd', { key: `${name}-d`, style: { margin: 0 }, 'data-status': name }, value),
        ]),
      ),
      status.scopes === undefined ? null : h(Json, { label: 'scopes', value: status.scopes }),
    ),
  );
}

function fields(status: SyncStatus): [string, ReactNode][] {
  const { catchUp, lastError } = status;
  return [
    ['leader', status.leader ? 'yes, this tab syncs' : 'no'],
    ['online', status.online ? 'yes' : 'no'],
    ['connected', status.connected ? 'yes, live' : 'no'],
    ['pending', String(status.pending)],
    [
      'catch-up',
      `${catchUp.done ? 'done' : 'running'}, ${catchUp.received} received` +
        (catchUp.total === undefined ? '' : ` of ${catchUp.total}`),
    ],
    ['last synced', status.lastSyncedAt ?? 'never'],
    [
      'unreadable',
      status.unreadable === undefined
        ? 'none'
        : h(
            'span',
            { style: errorStyle },
            `${status.unreadable.count} events a newer app version wrote, kept unapplied (` +
              status.unreadable.types
                .map((type) => `${type.type} v${type.schemaVersion}`)
                .join(', ') +
              ')',
          ),
    ],
    [
      'last error',
      lastError === undefined
        ? 'none'
        : h(
            'span',
            { style: errorStyle },
            `${lastError.code}: ${lastError.message} (${lastError.at})`,
          ),
    ],
  ];
}

/** This tab's sync activity, newest first: pushes, pulls, live events, connects, errors. */
export function TimelineTab({ inspector }: { readonly inspector: StrataInspector }): ReactNode {
  const result = useLiveResult(inspector.timeline);
  const status = useLiveResult(useMemo(() => inspector.status, [inspector]));
  if (inspector.timeline === undefined) return h(Note, null, NO_SYNC);
  const follower = status?.ok === true && !status.value.leader;
  return loaded(result, (entries: readonly SyncActivityEntry[]) => {
    const first = entries[0];
    const dropped = first === undefined ? 0 : first.seq - 1;
    return h(
      'div',
      null,
      follower
        ? h(
            Note,
            null,
            'Another tab syncs: only the syncing tab records pushes, pulls and reconnects.',
          )
        : null,
      entries.length === 0 ? h(Note, null, 'Nothing yet.') : null,
      dropped > 0 ? h(Note, null, `${dropped} older entries dropped.`) : null,
      h(
        'ol',
        { reversed: true, style: { margin: 0, paddingLeft: 0, listStyle: 'none' } },
        [...entries]
          .reverse()
          .map((entry) =>
            h(
              'li',
              { key: entry.seq, 'data-activity': entry.kind, style: { padding: '1px 0' } },
              h('span', { style: mutedStyle }, `${entry.at} `),
              h('strong', { style: entry.kind === 'error' ? errorStyle : undefined }, entry.kind),
              ` ${entry.detail}`,
            ),
          ),
      ),
    );
  });
}
