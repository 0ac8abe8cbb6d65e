import { type StreamRef, streamKey } from '../event-store/stream-ref.ts';
import type { ForgetResult, KeyRecord, KeyStore } from './key-store.ts';
import { generateStreamKey, type StreamKey } from './stream-key.ts';

/** Options of `createInMemoryKeyStore`. */
export interface InMemoryKeyStoreOptions {
  /** The clock of `forgottenAt`. Defaults to `() => new Date()`. */
  readonly clock?: () => Date;
}

/**
 * A key store in memory: for tests, and for a browser app that keeps its keys for one session.
 *
 * @example
 * const keyStore = createInMemoryKeyStore();
 * const data = await encryptEventData(plain, await keyStore.keyFor(stream), binding);
 */
export function createInMemoryKeyStore(options: InMemoryKeyStoreOptions = {}): KeyStore {
  const clock = options.clock ?? (() => new Date());
  const byKid = new Map<string, KeyRecord>();
  const activeByStream = new Map<string, StreamKey>();
  // Concurrent first uses of one stream must share one key, not race to make two.
  const creating = new Map<string, Promise<StreamKey>>();

  return {
    keyFor(stream) {
      const at = streamKey(stream);
      const active = activeByStream.get(at);
      if (active !== undefined) return Promise.resolve(active);
      const pending =
        creating.get(at) ??
        generateStreamKey()
          .then((created) => {
            activeByStream.set(at, created);
            byKid.set(created.kid, { status: 'active', stream: copy(stream), ...created });
            return created;
          })
          .finally(() => creating.delete(at));
      creating.set(at, pending);
      return pending;
    },
    async find(kids) {
      const found = new Map<string, KeyRecord>();
      for (const kid of kids) {
        const record = byKid.get(kid);
        if (record !== undefined) found.set(kid, record);
      }
      return found;
    },
    async forget(stream): Promise<ForgetResult> {
      const at = streamKey(stream);
      await creating.get(at)?.catch(() => undefined);
      const active = activeByStream.get(at);
      if (active === undefined) return {};
      activeByStream.delete(at);
      const forgottenAt = clock().toISOString();
      byKid.set(active.kid, {
        status: 'forgotten',
        kid: active.kid,
        stream: copy(stream),
        forgottenAt,
      });
      return { kid: active.kid, forgottenAt };
    },
  };
}

function copy(stream: StreamRef): StreamRef {
  return { aggregateType: stream.aggregateType, aggregateId: stream.aggregateId };
}
