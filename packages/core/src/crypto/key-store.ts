import type { StreamRef } from '../event-store/stream-ref.ts';
import type { StreamKey } from './stream-key.ts';

/**
 * A key a store knows by its kid: still usable, or deleted (a tombstone), so a reader can tell
 * "this data was forgotten" from "this key was never here" (a key someone else holds).
 */
export type KeyRecord =
  | {
      readonly status: 'active';
      readonly kid: string;
      readonly stream: StreamRef;
      readonly key: CryptoKey;
    }
  | {
      readonly status: 'forgotten';
      readonly kid: string;
      readonly stream: StreamRef;
      /** ISO 8601 time of the deletion. */
      readonly forgottenAt: string;
    };

/** What `KeyStore.forget` did. */
export interface ForgetResult {
  /** The key that was deleted; absent when the stream had no usable key. */
  readonly kid?: string;
  /** ISO 8601 time of the deletion; absent when nothing was deleted. */
  readonly forgottenAt?: string;
}

/**
 * Keys per stream (aggregate), for crypto-shredding: deleting a stream's key makes every payload
 * encrypted with it unreadable, wherever copies of the events went. On the server there is one
 * key store per tenant.
 *
 * @example
 * const key = await keyStore.keyFor({ aggregateType: 'User', aggregateId: 'u1' });
 * const found = await keyStore.find([key.kid]);
 * await keyStore.forget({ aggregateType: 'User', aggregateId: 'u1' });
 */
export interface KeyStore {
  /**
   * The stream's key, created on first use. After `forget`, a new key with a new kid: events
   * appended later are readable, the forgotten ones stay forgotten.
   */
  keyFor(stream: StreamRef): Promise<StreamKey>;
  /** The records of these kids, active or forgotten; kids this store never had are absent. */
  find(kids: readonly string[]): Promise<ReadonlyMap<string, KeyRecord>>;
  /** Deletes the stream's key, leaving a tombstone with the kid. */
  forget(stream: StreamRef): Promise<ForgetResult>;
}
