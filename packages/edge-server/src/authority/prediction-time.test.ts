import { describe, expect, it } from 'vitest';
import { predictionTimeFits, VERIFY_CLOCK_SKEW_MS } from './prediction-time.ts';

describe('predictionTimeFits', () => {
  const now = new Date('2026-12-03T12:00:00.000Z');
  it('takes a time up to the skew ahead of the server and not before the last event', () => {
    const ahead = (ms: number) => new Date(now.getTime() + ms);
    expect(predictionTimeFits(ahead(VERIFY_CLOCK_SKEW_MS), now, undefined)).toBe(true);
    expect(predictionTimeFits(ahead(VERIFY_CLOCK_SKEW_MS + 1), now, undefined)).toBe(false);
    expect(predictionTimeFits(ahead(-5_000), now, ahead(-5_000).toISOString())).toBe(true);
    expect(predictionTimeFits(ahead(-5_001), now, ahead(-5_000).toISOString())).toBe(false);
    expect(predictionTimeFits(new Date(0), now, undefined)).toBe(true);
  });
});
