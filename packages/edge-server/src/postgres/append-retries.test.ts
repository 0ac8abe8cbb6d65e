import { describe, expect, it } from 'vitest';
import {
  isEventUniqueViolation,
  MAX_APPEND_ATTEMPTS,
  withAppendRetries,
} from './append-retries.ts';

const raceLost = { code: '23505', table: 'strata_events' };

describe('isEventUniqueViolation', () => {
  it('is a unique violation on the events, named by table or by an index of theirs', () => {
    expect(isEventUniqueViolation(raceLost)).toBe(true);
    expect(isEventUniqueViolation({ code: '23505', constraint: 'strata_events_tenant_id' })).toBe(
      true,
    );
    expect(isEventUniqueViolation({ code: '23505', table: 'strata_snapshots' })).toBe(false);
    expect(isEventUniqueViolation({ code: '40001', table: 'strata_events' })).toBe(false);
    expect(isEventUniqueViolation(undefined)).toBe(false);
    expect(isEventUniqueViolation(new Error('boom'))).toBe(false);
  });
});

describe('withAppendRetries', () => {
  it('tries again after a lost race, telling the next try it raced', async () => {
    const tries: boolean[] = [];
    const result = await withAppendRetries(async (raced) => {
      tries.push(raced);
      if (tries.length < 3) throw raceLost;
      return 'stored';
    });
    expect(result).toBe('stored');
    expect(tries).toEqual([false, true, true]);
  });

  it(`gives up after ${MAX_APPEND_ATTEMPTS} lost races with the last error`, async () => {
    let tries = 0;
    const last = { ...raceLost, try: MAX_APPEND_ATTEMPTS };
    await expect(
      withAppendRetries(async () => {
        tries += 1;
        throw tries === MAX_APPEND_ATTEMPTS ? last : raceLost;
      }),
    ).rejects.toBe(last);
    expect(tries).toBe(MAX_APPEND_ATTEMPTS);
  });

  it('passes any other error on at once', async () => {
    let tries = 0;
    const conflict = new Error('WRONG_EXPECTED_VERSION');
    await expect(
      withAppendRetries(async () => {
        tries += 1;
        throw conflict;
      }),
    ).rejects.toBe(conflict);
    expect(tries).toBe(1);
  });
});
