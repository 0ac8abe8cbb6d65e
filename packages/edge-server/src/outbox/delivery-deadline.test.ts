import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDeliveryDeadline } from './delivery-deadline.ts';

describe('startDeliveryDeadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('aborts every signal handed out once the time is up, with the reason', () => {
    const reason = new Error('too slow');
    const deadline = startDeliveryDeadline(200, () => reason);
    const signals = [deadline.signal(), deadline.signal()];
    vi.advanceTimersByTime(199);
    expect(signals.map((signal) => signal.aborted)).toEqual([false, false]);
    vi.advanceTimersByTime(1);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(signals[0]?.reason).toBe(reason);
  });

  it('hands out one signal per delivery, already aborted after the deadline', () => {
    const deadline = startDeliveryDeadline(10, () => 'late');
    const first = deadline.signal();
    expect(deadline.signal()).not.toBe(first);
    vi.advanceTimersByTime(10);
    const late = deadline.signal();
    expect(late.aborted).toBe(true);
    expect(late.reason).toBe('late');
  });

  it('aborts nothing once cleared', () => {
    const deadline = startDeliveryDeadline(10, () => 'late');
    const signal = deadline.signal();
    deadline.clear();
    vi.advanceTimersByTime(1_000);
    expect(signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
