import { createElement as h, type ReactNode } from 'react';
import { jsonText } from './json-text.ts';
import {
  buttonStyle,
  errorStyle,
  mutedStyle,
  preStyle,
  rowStyle,
  summaryStyle,
  toolbarStyle,
} from './panel-style.ts';
import { errorText, type LiveResult } from './use-live-result.ts';
import type { Pages } from './use-pages.ts';

/** A value as bounded JSON text (see `jsonText`): text, never HTML. */
export function Json({
  value,
  label,
}: {
  readonly value: unknown;
  readonly label?: string;
}): ReactNode {
  return h(
    'pre',
    { style: preStyle, 'aria-label': label, 'data-devtools': 'json' },
    jsonText(value),
  );
}

/** One row of a list: a one-line summary that opens on click, Enter or Space (native details). */
export function Entry({
  summary,
  children,
  testId,
}: {
  readonly summary: ReactNode;
  readonly children?: ReactNode;
  readonly testId?: string;
}): ReactNode {
  return h(
    'details',
    { style: rowStyle, 'data-devtools-entry': testId },
    h('summary', { style: summaryStyle }, summary),
    children,
  );
}

/** A line of grey text. */
export function Note({ children }: { readonly children?: ReactNode }): ReactNode {
  return h('p', { style: { ...mutedStyle, margin: '4px 0' } }, children);
}

/** A live result as the panel shows it: waiting, its failure, or `render(value)`. */
export function loaded<T>(
  result: LiveResult<T> | undefined,
  render: (value: T) => ReactNode,
): ReactNode {
  if (result === undefined) return h(Note, null, 'Reading…');
  if (!result.ok) {
    return h(
      'p',
      { role: 'alert', style: errorStyle },
      `Could not read: ${errorText(result.error)}`,
    );
  }
  return render(result.value);
}

/** Older/newer buttons and where the list is. */
export function Pager<TCursor>({
  pages,
  next,
  shown,
  total,
  noun,
}: {
  readonly pages: Pages<TCursor>;
  readonly next: TCursor | undefined;
  readonly shown: number;
  readonly total: number | undefined;
  readonly noun: string;
}): ReactNode {
  return h(
    'div',
    { style: toolbarStyle },
    h(
      'button',
      { type: 'button', style: buttonStyle, disabled: pages.number === 1, onClick: pages.back },
      '← Previous',
    ),
    h(
      'button',
      {
        type: 'button',
        style: buttonStyle,
        disabled: next === undefined,
        onClick: () => next !== undefined && pages.forward(next),
      },
      'Next →',
    ),
    h(
      'span',
      { style: mutedStyle, 'aria-live': 'polite' },
      `page ${pages.number}: ${shown} shown${total === undefined ? '' : ` of ${total} ${noun}`}`,
    ),
  );
}
