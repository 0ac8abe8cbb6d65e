import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../events/event.ts';
import { decryptEvents } from './decrypt-events.ts';
import { isEncryptedPayload } from './encrypted-payload.ts';
import { encryptEventData, payloadBinding } from './event-cipher.ts';
import { isForgotten } from './forgotten.ts';
import { createInMemoryKeyStore } from './in-memory-key-store.ts';
import type { KeyStore } from './key-store.ts';
import { generateStreamKey } from './stream-key.ts';

const userA = { aggregateType: 'User', aggregateId: 'a' };
const userB = { aggregateType: 'User', aggregateId: 'b' };
let counter = 0;
const event = (stream: typeof userA, data: unknown): EventEnvelope => ({
  id: `event-${++counter}`,
  type: 'EmailChanged',
  schemaVersion: 1,
  ...stream,
  version: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
  metadata: {},
});
const sealed = async (keyStore: KeyStore, stream: typeof userA, data: unknown) => {
  const plain = event(stream, data);
  const key = await keyStore.keyFor(stream);
  return { ...plain, data: await encryptEventData(data, key, payloadBinding(plain)) };
};
const counting = (keyStore: KeyStore) => {
  const calls: string[][] = [];
  return {
    calls,
    find: (kids: readonly string[]) => {
      calls.push([...kids]);
      return keyStore.find(kids);
    },
  };
};

describe('decryptEvents', () => {
  it('passes plaintext through without asking the key store', async () => {
    const keyStore = counting(createInMemoryKeyStore());
    const events = [event(userA, { email: 'a@example.com' })];
    expect(await decryptEvents(events, keyStore)).toEqual(events);
    expect(keyStore.calls).toEqual([]);
  });

  it('decrypts a batch with one lookup', async () => {
    const store = createInMemoryKeyStore();
    const events = [
      await sealed(store, userA, { email: 'a@example.com' }),
      event(userA, { plain: true }),
      await sealed(store, userB, { email: 'b@example.com' }),
      await sealed(store, userA, { email: 'a2@example.com' }),
    ];
    const keyStore = counting(store);
    const read = await decryptEvents(events, keyStore);
    expect(read.map((e) => e.data)).toEqual([
      { email: 'a@example.com' },
      { plain: true },
      { email: 'b@example.com' },
      { email: 'a2@example.com' },
    ]);
    expect(keyStore.calls).toHaveLength(1);
    expect(keyStore.calls[0]).toHaveLength(2);
  });

  it('gives the forgotten marker once the key is deleted, and only for that stream', async () => {
    const store = createInMemoryKeyStore({ clock: () => new Date('2026-02-02T00:00:00.000Z') });
    const events = [
      await sealed(store, userA, { email: 'a@example.com' }),
      await sealed(store, userB, { email: 'b@example.com' }),
    ];
    const { kid } = await store.keyFor(userA);
    expect(await store.forget(userA)).toEqual({ kid, forgottenAt: '2026-02-02T00:00:00.000Z' });
    const [a, b] = await decryptEvents(events, store);
    expect(a?.data).toEqual({ $forgotten: true, kid, forgottenAt: '2026-02-02T00:00:00.000Z' });
    expect(isForgotten(a?.data)).toBe(true);
    expect(JSON.stringify(a)).not.toContain('a@example.com');
    expect(b?.data).toEqual({ email: 'b@example.com' });
  });

  it('leaves payloads sealed with a key it does not hold exactly as they were', async () => {
    const clientKey = await generateStreamKey();
    const plain = event(userA, { secret: 'end to end' });
    const endToEnd = {
      ...plain,
      data: await encryptEventData(plain.data, clientKey, payloadBinding(plain)),
    };
    const [read] = await decryptEvents([endToEnd], createInMemoryKeyStore());
    expect(read).toBe(endToEnd);
  });

  it('leaves a payload moved onto another stream or event sealed', async () => {
    const store = createInMemoryKeyStore();
    const original = await sealed(store, userA, { email: 'a@example.com' });
    const movedStream = { ...original, ...userB };
    const movedEvent = { ...original, id: 'another' };
    const read = await decryptEvents([movedStream, movedEvent], store);
    expect(read.every((e) => isEncryptedPayload(e.data))).toBe(true);
  });
});

describe('in-memory key store', () => {
  it('gives one key per stream, also to concurrent first uses, and a new one after forget', async () => {
    const store = createInMemoryKeyStore();
    const [first, second] = await Promise.all([store.keyFor(userA), store.keyFor(userA)]);
    expect(first).toBe(second);
    expect((await store.keyFor(userB)).kid).not.toBe(first?.kid);
    await store.forget(userA);
    const renewed = await store.keyFor(userA);
    expect(renewed.kid).not.toBe(first?.kid);
    const found = await store.find([first?.kid ?? '', renewed.kid, 'never']);
    expect(found.get(first?.kid ?? '')?.status).toBe('forgotten');
    expect(found.get(renewed.kid)?.status).toBe('active');
    expect(found.has('never')).toBe(false);
  });

  it('forgets nothing for a stream without a key', async () => {
    expect(await createInMemoryKeyStore().forget(userA)).toEqual({});
  });
});
