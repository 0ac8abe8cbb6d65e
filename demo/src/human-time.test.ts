import { describe, expect, it } from 'vitest';
import { humanTime } from './human-time.ts';

const now = new Date('2026-12-03T17:50:00Z');
const en = { locale: 'en-GB', timeZone: 'UTC' } as const;

describe('humanTime', () => {
  it('says how long ago, in the largest unit that fits', () => {
    const relative = (iso: string) => humanTime(iso, now, en).relative;
    expect(relative('2026-12-03T17:50:00Z')).toBe('now');
    expect(relative('2026-12-03T17:49:58Z')).toBe('now');
    expect(relative('2026-12-03T17:49:30Z')).toBe('30 seconds ago');
    expect(relative('2026-12-03T17:45:00Z')).toBe('5 minutes ago');
    expect(relative('2026-12-03T15:50:00Z')).toBe('2 hours ago');
    expect(relative('2026-12-02T17:00:00Z')).toBe('yesterday');
    expect(relative('2026-11-30T17:50:00Z')).toBe('3 days ago');
    // Another device's clock a little ahead.
    expect(relative('2026-12-03T17:52:00Z')).toBe('in 2 minutes');
  });

  it('gives the full local date and time for a tooltip', () => {
    expect(humanTime('2026-12-03T17:45:12.345Z', now, en).absolute).toBe('3 Dec 2026, 17:45:12');
    expect(
      humanTime('2026-12-03T17:45:12Z', now, { locale: 'en-GB', timeZone: 'Europe/Lisbon' })
        .absolute,
    ).toBe('3 Dec 2026, 17:45:12');
    expect(
      humanTime('2026-12-03T17:45:12Z', now, { locale: 'en-GB', timeZone: 'Europe/Berlin' })
        .absolute,
    ).toBe('3 Dec 2026, 18:45:12');
  });

  it('leaves a string that is not a timestamp as it is', () => {
    expect(humanTime('soon', now, en)).toEqual({ relative: 'soon', absolute: 'soon' });
  });
});
