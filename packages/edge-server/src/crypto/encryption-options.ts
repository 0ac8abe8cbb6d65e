import type { StreamRef } from '@strata/core';

/**
 * Which streams the server encrypts at rest (crypto-shredding, issue 7). Plaintext events pushed
 * to such a stream are encrypted with the stream's key (created on first use) inside the append;
 * payloads a client already encrypted are stored as they came.
 *
 * @example
 * createSyncApp({ database, authenticate, encryption: encryptAggregates(['User', 'Patient']) });
 */
export interface EncryptionOptions {
  /** Whether this stream's plaintext events are encrypted before they are stored. */
  readonly encrypts: (stream: StreamRef) => boolean;
}

/**
 * Encrypts every stream of these aggregate types.
 *
 * @example
 * const encryption = encryptAggregates(['User']);
 * encryption.encrypts({ aggregateType: 'User', aggregateId: 'u1' }); // true
 */
export function encryptAggregates(aggregateTypes: readonly string[]): EncryptionOptions {
  const types = new Set(aggregateTypes);
  return { encrypts: (stream) => types.has(stream.aggregateType) };
}
