import { describe, expect, it } from 'vitest';
import { recheckAccess } from './access-recheck.ts';
import { createBoundedSseWriter } from './bounded-sse-writer.ts';

const writer = () => createBoundedSseWriter({ maxBufferedBytes: 1024 });

describe('recheckAccess', () => {
  it('answers the rule: granted or refused', async () => {
    expect(await recheckAccess(writer(), async () => true)).toEqual({ outcome: 'granted' });
    expect(await recheckAccess(writer(), async () => false)).toEqual({ outcome: 'refused' });
  });

  it('answers failed with the error of a rule that throws, before or after its first await', async () => {
    const down = new Error('rule backend down');
    expect(
      await recheckAccess(writer(), () => {
        throw down;
      }),
    ).toEqual({ outcome: 'failed', error: down });
    expect(await recheckAccess(writer(), () => Promise.reject(down))).toEqual({
      outcome: 'failed',
      error: down,
    });
  });

  it('answers ended as soon as the client leaves, while the rule still thinks', async () => {
    const open = writer();
    let answer: (granted: boolean) => void = () => undefined;
    const check = recheckAccess(open, () => new Promise<boolean>((resolve) => (answer = resolve)));
    await open.body.cancel();
    expect(await check).toEqual({ outcome: 'ended' });
    answer(true); // a late answer changes nothing
    expect(await check).toEqual({ outcome: 'ended' });
  });

  it('answers ended without asking when the writer has ended already', async () => {
    const closed = writer();
    closed.close();
    let asked = false;
    const check = await recheckAccess(closed, async () => {
      asked = true;
      return true;
    });
    expect(check).toEqual({ outcome: 'ended' });
    expect(asked).toBe(false);
  });
});
