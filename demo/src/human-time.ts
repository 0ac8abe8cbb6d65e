/** A moment as people read it: "5 minutes ago", with the full date and time for a tooltip. */
export interface HumanTime {
  /** Relative to `now`, e.g. "now", "12 seconds ago", "yesterday", "3 days ago". */
  readonly relative: string;
  /** The local date and time, e.g. "3 Dec 2026, 17:50:12". */
  readonly absolute: string;
}

// The largest unit that fits, as the sizes of each unit in seconds.
const UNITS: readonly (readonly [Intl.RelativeTimeFormatUnit, number])[] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/**
 * `iso` (an ISO 8601 timestamp, as events and the sync status carry them) for people. `locale`
 * and `timeZone` default to the browser's; tests name them.
 */
export function humanTime(
  iso: string,
  now: Date,
  options: { readonly locale?: string; readonly timeZone?: string } = {},
): HumanTime {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return { relative: iso, absolute: iso };
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const [unit, size] = UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? ['second', 1];
  // Within a few seconds either way is "now": clocks of two devices are never exactly alike.
  const amount = Math.abs(seconds) < 5 ? 0 : Math.round(seconds / size);
  const relative = new Intl.RelativeTimeFormat(options.locale, { numeric: 'auto' }).format(
    amount,
    unit,
  );
  const absolute = then.toLocaleString(options.locale, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
  });
  return { relative, absolute };
}
