import { describe, expect, it } from 'vitest';
import { deliverToSink, MAX_ERROR_LENGTH } from './deliver-to-sink.ts';
import type { OutboxMessage } from './outbox-sink.ts';

const message = { id: '7', destination: 'hooks', tenant: 't', attempt: 1 } as OutboxMessage;

function reports() {
  const told: [unknown, OutboxMessage][] = [];
  return { told, report: (error: unknown, about: OutboxMessage) => void told.push([error, about]) };
}

describe('deliverToSink', () => {
  it('resolves null once the sink acknowledged, handing it the message and the signal', async () => {
    const { told, report } = reports();
    const signal = new AbortController().signal;
    const seen: unknown[] = [];
    const sink = async (got: OutboxMessage, context: { signal: AbortSignal }) => {
      seen.push(got, context.signal);
    };
    expect(await deliverToSink(sink, message, signal, report)).toBeNull();
    expect(seen).toEqual([message, signal]);
    expect(told).toEqual([]);
  });

  it('reports a failure and keeps its name and message, cut to MAX_ERROR_LENGTH', async () => {
    const { told, report } = reports();
    const error = new TypeError('x'.repeat(3 * MAX_ERROR_LENGTH));
    const failure = await deliverToSink(
      () => {
        throw error;
      },
      message,
      new AbortController().signal,
      report,
    );
    expect(failure?.error).toHaveLength(MAX_ERROR_LENGTH);
    expect(failure?.error.startsWith('TypeError: xxx')).toBe(true);
    expect(failure?.timedOut).toBe(false);
    expect(told).toEqual([[error, message]]);
  });

  it('does not wait for a sink that ignores its aborted signal: a timed-out failure', async () => {
    const { report } = reports();
    const controller = new AbortController();
    const pending = deliverToSink(
      () => new Promise<void>(() => undefined),
      message,
      controller.signal,
      report,
    );
    controller.abort(new Error('deadline'));
    expect(await pending).toEqual({ error: 'Error: deadline', timedOut: true });
  });

  it('fails without calling anything when the deadline passed already or no sink is there', async () => {
    const { report } = reports();
    let called = false;
    const aborted = AbortSignal.abort('gone');
    const sink = () => {
      called = true;
    };
    expect(await deliverToSink(sink, message, aborted, report)).toEqual({
      error: 'gone',
      timedOut: true,
    });
    expect(called).toBe(false);
    expect(await deliverToSink(undefined, message, new AbortController().signal, report)).toEqual({
      error: 'Error: No sink for destination hooks',
      timedOut: false,
    });
  });
});
