import { describe, expect, it } from 'vitest';
import { runCipherChecks, SAMPLE_DATA } from '../../test/fixtures/cipher-check.ts';
import { EncryptedPayloadSchema, isEncryptedPayload } from './encrypted-payload.ts';

describe('event cipher (AES-GCM via WebCrypto)', () => {
  it('round-trips JSON and refuses other events, other keys and tampered bytes', async () => {
    const report = await runCipherChecks();
    expect(report.roundTrip).toEqual(SAMPLE_DATA);
    expect(report.ivBytes).toBe(12);
    expect(report.distinctCiphertexts).toBe(true);
    expect(report.plaintextVisible).toBe(false);
    expect(report.otherEventRejected).toBe(true);
    expect(report.otherKeyRejected).toBe(true);
    expect(report.tamperedRejected).toBe(true);
    expect(report.base64RoundTrip).toBe(true);
  });

  it('opens what it sealed after the raw key went through storage', async () => {
    const first = await runCipherChecks();
    const second = await runCipherChecks(first.sealed);
    expect(second.foreign).toEqual(SAMPLE_DATA);
  });

  it('recognises only well-formed payloads', async () => {
    const { sealed } = await runCipherChecks();
    expect(EncryptedPayloadSchema.parse(sealed.payload)).toEqual(sealed.payload);
    expect(isEncryptedPayload(sealed.payload)).toBe(true);
    expect(isEncryptedPayload({ $encrypted: 'app data' })).toBe(false);
    expect(isEncryptedPayload({ $encrypted: { ...sealed.payload.$encrypted, v: 2 } })).toBe(false);
    expect(isEncryptedPayload({ ...sealed.payload, extra: 1 })).toBe(false);
    expect(isEncryptedPayload(null)).toBe(false);
    expect(isEncryptedPayload('text')).toBe(false);
  });
});
