// @strata/edge-server/crypto: crypto-shredding on the server: payloads encrypted at rest with a
// key per aggregate; deleting the key forgets the aggregate's data for every reader.

// Encrypting: which aggregates' payloads, for createSyncApp and createPostgresEventStore.
export { type EncryptionOptions, encryptAggregates } from './encryption-options.ts';

// Forgetting: delete an aggregate's key.
export { type ForgetAggregateOptions, forgetAggregate } from './forget-aggregate.ts';

// The keys: core's KeyStore over the strata_encryption_keys table.
export { createPostgresKeyStore, type PostgresKeyStoreOptions } from './postgres-key-store.ts';
