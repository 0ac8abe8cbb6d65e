import { describe, expect, it } from 'vitest';
import { isSafeRequestId, MAX_REQUEST_ID_LENGTH, requestIdentity } from './request-id.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps a short, safe incoming x-request-id', () => {
    expect(requestIdentity(new Headers({ 'x-request-id': 'edge-7f3a:01.x_y' }))).toEqual({
      requestId: 'edge-7f3a:01.x_y',
    });
  });

  it.each([
    ['huge', 'a'.repeat(MAX_REQUEST_ID_LENGTH + 1)],
    ['terminal escapes', 'abc\u001b[31mdef'],
    ['DEL', 'abc\u007fdef'],
    ['spaces', 'a b'],
    ['quotes and braces', '"},{"level":"info"'],
    ['non-ASCII', 'idé'],
    ['a tab', 'a\tb'],
  ])('makes a fresh id instead of %s', (_, hostile) => {
    const { requestId } = requestIdentity(new Headers({ 'x-request-id': hostile }));
    expect(requestId).toMatch(UUID);
    expect(requestId).not.toContain(hostile);
  });

  it('new ids differ per request', () => {
    const ids = new Set(Array.from({ length: 50 }, () => requestIdentity(new Headers()).requestId));
    expect(ids.size).toBe(50);
  });

  it('takes the trace id of a valid traceparent, and refuses invalid ones', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(requestIdentity(new Headers({ traceparent }))).toEqual({
      requestId: '4bf92f3577b34da6a3ce929d0e0e4736',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(requestIdentity(new Headers({ traceparent, 'x-request-id': 'mine-1' }))).toEqual({
      requestId: 'mine-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    for (const bad of [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01${'x'.repeat(200)}`,
    ]) {
      const identity = requestIdentity(new Headers({ traceparent: bad }));
      expect(identity.traceId).toBeUndefined();
      expect(identity.requestId).toMatch(UUID);
    }
  });

  it('isSafeRequestId', () => {
    expect(isSafeRequestId('a')).toBe(true);
    expect(isSafeRequestId('')).toBe(false);
    expect(isSafeRequestId('a\nb')).toBe(false);
  });
});
