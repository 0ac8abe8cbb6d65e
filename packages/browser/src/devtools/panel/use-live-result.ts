import { useMemo } from 'react';
import { useLiveValue } from '../../react/use-live-value.ts';
import type { LiveSubscribable } from '../../runtime/live-state.ts';

/** A live value's latest result: its value, or why it failed. */
export type LiveResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * The latest result of a live value, undefined until the first. Unlike `useLiveValue`, a
 * failure is a result, not a throw: one section of the panel that cannot read shows why and
 * leaves the app (and the other sections) alone. `source` must be memoised by the caller.
 */
export function useLiveResult<T>(
  source: LiveSubscribable<T> | undefined,
): LiveResult<T> | undefined {
  const settled = useMemo(() => (source === undefined ? undefined : asResults(source)), [source]);
  return useLiveValue(settled);
}

function asResults<T>(source: LiveSubscribable<T>): LiveSubscribable<LiveResult<T>> {
  return {
    subscribe(observer) {
      const next = typeof observer === 'function' ? observer : observer.next;
      return source.subscribe({
        next: (value) => next?.({ ok: true, value }),
        error: (error) => next?.({ ok: false, error }),
      });
    },
  };
}

/** An error as one line of text. */
export function errorText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
