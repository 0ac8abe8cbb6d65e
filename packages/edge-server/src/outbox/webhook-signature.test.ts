import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

const secret = 'whsec-test';
const body = JSON.stringify({ id: '1', event: { type: 'OrderPlaced', data: { total: 42 } } });
const now = 1_800_000_000;

describe('webhook signatures', () => {
  it('verify a body signed with the same secret, recently', async () => {
    const header = await signWebhook(secret, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature({ secret, body, header, now })).toBe(true);
    expect(await verifyWebhookSignature({ secret, body, header, now: now + 300 })).toBe(true);
  });

  it('reject a tampered body, another secret, or a tampered timestamp', async () => {
    const header = await signWebhook(secret, body, now);
    const tampered = body.replace('42', '43');
    expect(await verifyWebhookSignature({ secret, body: tampered, header, now })).toBe(false);
    expect(await verifyWebhookSignature({ secret: 'other', body, header, now })).toBe(false);
    const moved = header.replace(`t=${now}`, `t=${now + 1}`);
    expect(await verifyWebhookSignature({ secret, body, header: moved, now })).toBe(false);
  });

  it('reject signatures older (or newer) than the tolerance', async () => {
    const header = await signWebhook(secret, body, now);
    expect(await verifyWebhookSignature({ secret, body, header, now: now + 301 })).toBe(false);
    expect(await verifyWebhookSignature({ secret, body, header, now: now - 301 })).toBe(false);
    const options = { secret, body, header, now: now + 3_000, toleranceSeconds: 3_600 };
    expect(await verifyWebhookSignature(options)).toBe(true);
  });

  it('reject missing and malformed headers', async () => {
    const header = await signWebhook(secret, body, now);
    const [, mac] = header.split(',v1=');
    for (const bad of [
      null,
      undefined,
      '',
      `v1=${mac}`,
      `t=${now}`,
      `t=${now},v1=zz${mac?.slice(2)}`,
      `t=${now},v1=${mac?.slice(0, 63)}`,
      `t=soon,v1=${mac}`,
    ]) {
      expect(await verifyWebhookSignature({ secret, body, header: bad, now }), String(bad)).toBe(
        false,
      );
    }
  });

  it('accept any of several v1 signatures (rotating secrets)', async () => {
    const old = await signWebhook('old-secret', body, now);
    const current = await signWebhook(secret, body, now);
    const header = `${old},v1=${current.split(',v1=')[1]}`;
    expect(await verifyWebhookSignature({ secret, body, header, now })).toBe(true);
    expect(await verifyWebhookSignature({ secret: 'old-secret', body, header, now })).toBe(true);
    expect(await verifyWebhookSignature({ secret: 'third', body, header, now })).toBe(false);
  });
});
