import { describe, expect, it } from 'vitest';
import { runCipherChecks, SAMPLE_DATA } from '../../test/fixtures/cipher-check.ts';

// The cipher uses WebCrypto only: the same checks as in Node, in real Chromium.
describe('event cipher in Chromium', () => {
  it('encrypts, decrypts and refuses what it must', async () => {
    expect(navigator.userAgent).toContain('Chrome');
    const report = await runCipherChecks();
    expect(report.roundTrip).toEqual(SAMPLE_DATA);
    expect(report.ivBytes).toBe(12);
    expect(report.distinctCiphertexts).toBe(true);
    expect(report.plaintextVisible).toBe(false);
    expect([report.otherEventRejected, report.otherKeyRejected, report.tamperedRejected]).toEqual([
      true,
      true,
      true,
    ]);
    expect(report.base64RoundTrip).toBe(true);
    const second = await runCipherChecks(report.sealed);
    expect(second.foreign).toEqual(SAMPLE_DATA);
  });
});
