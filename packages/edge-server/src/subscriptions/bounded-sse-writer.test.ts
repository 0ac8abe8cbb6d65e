import { readServerSentEvents, type SseMessage } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createBoundedSseWriter } from './bounded-sse-writer.ts';

const decoder = new TextDecoder();

/** Reads one chunk, as a runtime does when its socket has room. */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string | null> {
  const { done, value } = await reader.read();
  return done ? null : decoder.decode(value);
}

async function allMessages(body: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readServerSentEvents(body)) messages.push(message);
  return messages;
}

describe('createBoundedSseWriter', () => {
  it('frames messages as SSE with their ids, in order, and ends after close', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1024 });
    expect(writer.write('{"n":1}', 'c1')).toBe(true);
    expect(writer.write('{"n":2}')).toBe(true);
    writer.close('{"bye":true}');
    expect(writer.write('{"n":3}', 'c3')).toBe(false);
    expect(await allMessages(writer.body)).toEqual([
      { id: 'c1', data: '{"n":1}' },
      { data: '{"n":2}' },
      { data: '{"bye":true}' },
    ]);
    expect(writer.ended).toBe('closed');
    expect(writer.lastDeliveredId).toBe('c1');
  });

  it('keeps unread bytes in its queue and counts them; a read takes them all at once', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 10_000, lowWaterBytes: 0 });
    const reader = writer.body.getReader();
    for (let i = 0; i < 10; i++) writer.write(`{"i":${i}}`, `c${i}`);
    expect(writer.bufferedBytes).toBeGreaterThan(10 * 10);
    let ready = false;
    const readyPromise = writer.ready().then(() => {
      ready = true;
    });
    await Promise.resolve();
    expect(ready).toBe(false); // nobody read: the writer waits for the transport
    const chunk = await readChunk(reader);
    expect(chunk?.match(/^data: /gm)).toHaveLength(10);
    await readyPromise;
    expect(writer.bufferedBytes).toBe(0);
    expect(writer.lastDeliveredId).toBe('c9');
    await reader.cancel();
  });

  it('on overflow drops what the reader was not given, sends the final message with the last id it got, then ends', async () => {
    const writer = createBoundedSseWriter({
      maxBufferedBytes: 200,
      initialId: 'c0',
      overflowMessage: (lastId) => JSON.stringify({ kind: 'closing', resumeAfter: lastId }),
    });
    const reader = writer.body.getReader();
    writer.write('{"i":1}', 'c1');
    expect(await readChunk(reader)).toBe('data: {"i":1}\nid: c1\n\n');
    let accepted = 0;
    for (let i = 2; i < 100 && writer.write(`{"i":${i}}`, `c${i}`); i++) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(98);
    expect(writer.ended).toBe('overflow');
    expect(writer.bufferedBytes).toBeLessThan(100); // only the final message is left
    expect(writer.write('{"late":1}', 'late')).toBe(false);
    reader.releaseLock();
    expect(await allMessages(writer.body)).toEqual([
      { data: JSON.stringify({ kind: 'closing', resumeAfter: 'c1' }) },
    ]);
  });

  it('resumes from its initial id when the reader got no event before the overflow', async () => {
    const writer = createBoundedSseWriter({
      maxBufferedBytes: 50,
      initialId: 'c0',
      overflowMessage: (lastId) => `"${lastId}"`,
    });
    writer.write('x'.repeat(60), 'c1');
    expect(await allMessages(writer.body)).toEqual([{ data: '"c0"' }]);
  });

  it('overflow() ends it as an overflow does, without a final message when none is configured', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 1000 });
    writer.write('{"i":1}', 'c1');
    writer.overflow();
    expect(writer.ended).toBe('overflow');
    expect(await allMessages(writer.body)).toEqual([]);
  });

  it('ends as cancelled when the client goes away, and wakes its waiters', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 10 });
    const waited = writer.wait(60_000);
    const reader = writer.body.getReader();
    const pending = reader.read(); // a read waiting for data, as a runtime's is
    await reader.cancel();
    await waited;
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(writer.ended).toBe('cancelled');
    expect(writer.write('{}')).toBe(false);
  });

  it('cuts a stream whose reader does not read its end within the grace period', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 100, closeGraceMs: 5 });
    writer.write('x'.repeat(150), 'c1'); // overflow: nobody reads
    await writer.wait(60_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await expect(writer.body.getReader().read()).rejects.toThrow('did not read the end');
  });

  it('refuses a cap that is not positive', () => {
    expect(() => createBoundedSseWriter({ maxBufferedBytes: 0 })).toThrow(RangeError);
    expect(() => createBoundedSseWriter({ maxBufferedBytes: Number.NaN })).toThrow(RangeError);
  });

  it('tells onEnded listeners once it ends, however, and at once when it has', async () => {
    const closed = createBoundedSseWriter({ maxBufferedBytes: 1024 });
    const heard: string[] = [];
    closed.onEnded(() => heard.push('closed'));
    const stop = closed.onEnded(() => heard.push('stopped'));
    stop();
    closed.close();
    closed.close();
    closed.onEnded(() => heard.push('late'));
    const cancelled = createBoundedSseWriter({ maxBufferedBytes: 1024 });
    cancelled.onEnded(() => heard.push('cancelled'));
    await cancelled.body.cancel();
    const overflowed = createBoundedSseWriter({ maxBufferedBytes: 4 });
    overflowed.onEnded(() => heard.push('overflow'));
    overflowed.write('too long for the cap');
    expect(heard).toEqual(['closed', 'late', 'cancelled', 'overflow']);
  });

  it('cuts a stream whose transport takes nothing for stallMs while a message waits', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 10_000, stallMs: 40 });
    const heard: string[] = [];
    writer.onEnded(() => heard.push(String(writer.ended)));
    const reader = writer.body.getReader();
    writer.write('{"n":1}', 'c1');
    expect(await readChunk(reader)).toContain('"n":1');
    writer.write('{"kind":"heartbeat"}'); // the transport reads no more
    await writer.wait(60_000);
    expect(heard).toEqual(['stalled']);
    expect(writer.write('{}')).toBe(false);
    await expect(reader.read()).rejects.toThrow('took nothing for 40 ms');
    expect(writer.lastDeliveredId).toBe('c1');
  });

  it('does not cut a reader that takes a chunk now and then, nor one that waits with nothing queued', async () => {
    const writer = createBoundedSseWriter({ maxBufferedBytes: 10_000, stallMs: 60 });
    const reader = writer.body.getReader();
    // Slow: each message waits 25 ms, and the stream lives past several stall periods.
    for (let i = 0; i < 8; i++) {
      writer.write(`{"i":${i}}`, `c${i}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await readChunk(reader)).toContain(`"i":${i}`);
    }
    // Idle: a read is pending and nothing is written for longer than stallMs.
    const pending = readChunk(reader);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(writer.ended).toBeUndefined();
    writer.close();
    expect(await pending).toBeNull();
    expect(writer.ended).toBe('closed');
  });

  it('refuses a stall period that is not positive', () => {
    expect(() => createBoundedSseWriter({ maxBufferedBytes: 1, stallMs: 0 })).toThrow(RangeError);
  });
});
