import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CipherCheckReport,
  runCipherChecks,
  SAMPLE_DATA,
} from '../../test/fixtures/cipher-check.ts';
import { decryptEventData } from './event-cipher.ts';
import { importStreamKey } from './stream-key.ts';

// workerd as it is (no nodejs_compat): the cipher needs nothing but WebCrypto.
let worker: WorkerdHandle;

beforeAll(async () => {
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/cipher-worker.ts', import.meta.url),
  });
});

afterAll(async () => {
  await worker?.dispose();
});

describe('event cipher in workerd', () => {
  it('encrypts, decrypts and refuses what it must', async () => {
    const report = (await (await worker.fetch('/')).json()) as CipherCheckReport;
    expect(report.roundTrip).toEqual(SAMPLE_DATA);
    expect(report.ivBytes).toBe(12);
    expect(report.distinctCiphertexts).toBe(true);
    expect(report.plaintextVisible).toBe(false);
    expect([report.otherEventRejected, report.otherKeyRejected, report.tamperedRejected]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('opens what Node sealed, and Node opens what workerd sealed', async () => {
    const fromNode = await runCipherChecks();
    const response = await worker.fetch('/', {
      method: 'POST',
      body: JSON.stringify(fromNode.sealed),
    });
    const report = (await response.json()) as CipherCheckReport;
    expect(report.foreign).toEqual(SAMPLE_DATA);
    const { rawKey, payload, binding } = report.sealed;
    expect(await decryptEventData(payload, await importStreamKey(rawKey), binding)).toEqual(
      SAMPLE_DATA,
    );
  });
});
