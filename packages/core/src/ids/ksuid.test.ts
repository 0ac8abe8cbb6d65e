import { build } from 'esbuild';
import KSUID from 'ksuid';
import { describe, expect, it, vi } from 'vitest';
import { formatKsuid, isKsuid, KSUID_PATTERN, newKsuid, parseKsuid } from './ksuid.ts';

const EPOCH = 1_400_000_000;
const MAX_SECONDS = EPOCH + 0xffff_ffff;
const MIN_ID = '000000000000000000000000000';
const MAX_ID = 'aWgEPTl1tmebfsQzFP4bxwgy80V';
const ZEROS = '00'.repeat(16);
const ONES = 'ff'.repeat(16);

// [id, unix seconds, payload hex], all produced by the `ksuid` package. The first is the example
// in segmentio/ksuid's README, decoded by its `ksuid -f inspect`.
const VECTORS: [id: string, seconds: number, payload: string][] = [
  ['0ujtsYcgvSTl8PAuAdqWYSMnLOv', 1507608047, 'b5a1cd34b5f99d1154fb6853345c9735'],
  [MIN_ID, EPOCH, ZEROS],
  [MAX_ID, MAX_SECONDS, ONES],
  ['0000049ZzGIgb8nSJAkuE9tcWwW', EPOCH, '88812bf5e98af1e3ad368fb20541bb4c'],
  ['000007n42DGM5Tflk9n8mt7Fhc7', EPOCH, ONES],
  ['1VlnyAu8R9sH7hG40uCy3KLLtqY', 1577836800, 'cead041e7769bf862c18e5e5e198fa7e'],
  ['2d2dRAsGvxfX9HpDmSKZwavtKPB', 1709210096, '19583f342e4c26b51b1daf6228b82dc1'],
  ['4Ji1L0l4QIaWgRqlCRK0CEBaNFo', 1907712000, ZEROS],
  ['aWgEPQHlD0fJdHBV6YzDnvlkt3G', MAX_SECONDS, '8deb12264b06faa6fb0e17325ca5e9c6'],
];

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));

/** Seeded (mulberry32) so that a failing case can be replayed. */
function seeded(seed: number) {
  let state = seed >>> 0;
  const uint32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const fill = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = uint32() & 0xff;
  };
  const seconds = () => EPOCH + uint32();
  return { fill, seconds };
}

/** Splits a 160-bit number into the timestamp and payload that encode it. */
function partsOf(value: bigint): [seconds: number, payload: Uint8Array] {
  const payload = fromHex((value & ((1n << 128n) - 1n)).toString(16).padStart(32, '0'));
  return [EPOCH + Number(value >> 128n), payload];
}

describe('fixed vectors', () => {
  it.each(VECTORS)('%s', (id, seconds, payloadHex) => {
    const parsed = parseKsuid(id);
    expect(parsed.timestamp.getTime()).toBe(seconds * 1000);
    expect(hex(parsed.payload)).toBe(payloadHex);
    expect(formatKsuid(seconds, fromHex(payloadHex))).toBe(id);
    expect(isKsuid(id)).toBe(true);

    const theirs = KSUID.parse(id);
    expect([theirs.date.getTime(), hex(theirs.payload)]).toEqual([seconds * 1000, payloadHex]);
  });
});

describe('compatibility with the ksuid package', () => {
  it('ids we make parse in the ksuid package', () => {
    const rng = seeded(1);
    for (let i = 0; i < 300; i++) {
      const seconds = i === 0 ? EPOCH : i === 1 ? MAX_SECONDS : rng.seconds();
      const payload = new Uint8Array(16);
      const random = (bytes: Uint8Array) => {
        rng.fill(bytes);
        payload.set(bytes);
      };
      const id = newKsuid({ now: seconds * 1000 + (i % 1000), random });

      const theirs = KSUID.parse(id);
      expect(theirs.string).toBe(id);
      expect(theirs.date.getTime()).toBe(seconds * 1000);
      expect(hex(theirs.payload)).toBe(hex(payload));
      expect(KSUID.fromParts(seconds * 1000, Buffer.from(payload)).string).toBe(id);
    }
  });

  it('ids the ksuid package makes parse in ours', () => {
    const rng = seeded(2);
    for (let i = 0; i < 300; i++) {
      const ms = i === 0 ? EPOCH * 1000 : i === 1 ? MAX_SECONDS * 1000 : rng.seconds() * 1000 + i;
      const theirs = KSUID.randomSync(ms);

      const ours = parseKsuid(theirs.string);
      expect(ours.timestamp.getTime()).toBe(theirs.date.getTime());
      expect(hex(ours.payload)).toBe(hex(theirs.payload));
      expect(formatKsuid(theirs.date.getTime() / 1000, theirs.payload)).toBe(theirs.string);
    }
  });
});

describe('newKsuid', () => {
  it('defaults to the current time and crypto.getRandomValues', () => {
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    try {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const [a, b] = [newKsuid(), newKsuid()];
      const after = Date.now();

      expect(getRandomValues).toHaveBeenCalledTimes(2);
      expect(getRandomValues.mock.calls[0]?.[0]).toHaveLength(16);
      expect(a).not.toBe(b);
      for (const id of [a, b]) {
        const time = parseKsuid(id).timestamp.getTime();
        expect(time).toBeGreaterThanOrEqual(before);
        expect(time).toBeLessThanOrEqual(after);
      }
    } finally {
      getRandomValues.mockRestore();
    }
  });

  it('takes the time as a Date or as milliseconds, keeping whole seconds', () => {
    const random = (bytes: Uint8Array) => bytes.fill(0xab);
    const fromDate = newKsuid({ now: new Date('2024-02-29T12:34:56.999Z'), random });
    const fromMs = newKsuid({ now: Date.UTC(2024, 1, 29, 12, 34, 56), random });

    expect(fromDate).toBe(fromMs);
    expect(parseKsuid(fromDate).timestamp.toISOString()).toBe('2024-02-29T12:34:56.000Z');
    expect(hex(parseKsuid(fromDate).payload)).toBe('ab'.repeat(16));
  });

  it('accepts the whole range of KSUID time', () => {
    const random = (bytes: Uint8Array) => bytes.fill(0);
    expect(newKsuid({ now: EPOCH * 1000, random })).toBe(MIN_ID);
    expect(parseKsuid(newKsuid({ now: MAX_SECONDS * 1000 + 999 })).timestamp.getTime()).toBe(
      MAX_SECONDS * 1000,
    );
  });

  it.each([
    ['before the KSUID epoch', EPOCH * 1000 - 1],
    ['1970', new Date(0)],
    ['after 2150-06-19T23:21:35Z', (MAX_SECONDS + 1) * 1000],
    ['NaN', Number.NaN],
    ['an invalid Date', new Date('not a date')],
  ])('rejects a time %s', (_, now) => {
    expect(() => newKsuid({ now })).toThrow(TypeError);
    expect(() => newKsuid({ now })).toThrow(/KSUID timestamp must be whole unix seconds/);
  });
});

describe('ordering', () => {
  // The smallest timestamps whose ids need 22..26 base62 digits before padding: the places
  // where an unpadded encoding would stop sorting.
  const digitBoundaries = [22n, 23n, 24n, 25n, 26n].map((k) => Number((62n ** k) >> 128n));

  it('sorts ids by time, also across base62 digit-count boundaries', () => {
    const rng = seeded(3);
    const offsets = new Set([0, 0xffff_ffff, ...digitBoundaries.flatMap((t) => [t - 1, t, t + 1])]);
    while (offsets.size < 500) offsets.add(rng.seconds() - EPOCH);

    const ids = [...offsets]
      .sort((a, b) => a - b)
      .map((offset) => newKsuid({ now: (EPOCH + offset) * 1000, random: rng.fill }));

    expect([...ids].sort()).toEqual(ids);
  });

  it('pads so that 62^k - 1 sorts before 62^k for every digit count k', () => {
    const ids: string[] = [];
    for (let k = 1; k <= 26; k++) {
      const below = formatKsuid(...partsOf(62n ** BigInt(k) - 1n));
      const at = formatKsuid(...partsOf(62n ** BigInt(k)));
      expect(below).toBe('z'.repeat(k).padStart(27, '0'));
      expect(at).toBe(`1${'0'.repeat(k)}`.padStart(27, '0'));
      ids.push(below, at);
    }
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('invalid input', () => {
  it.each([
    ['', /27 characters long, got 0/],
    [MIN_ID.slice(1), /27 characters long, got 26/],
    [`${MIN_ID}0`, /27 characters long, got 28/],
    ['0ujtsYcgvSTl8PAuAdqWYSMnLO-', /character other than 0-9, A-Z, a-z at index 26/],
    [' ujtsYcgvSTl8PAuAdqWYSMnLOv', /at index 0/],
    ['0ujtsYcgvSTl8PAuAdqWYSMnLOé', /at index 26/],
    ['0ujtsYcgvSTl8PAuAdqWYSMn😀v', /at index 24/],
    ['aWgEPTl1tmebfsQzFP4bxwgy80W', /larger than the largest KSUID/],
    ['zzzzzzzzzzzzzzzzzzzzzzzzzzz', /larger than the largest KSUID/],
  ])('rejects %j', (id, message) => {
    expect(() => parseKsuid(id)).toThrow(TypeError);
    expect(() => parseKsuid(id)).toThrow(message);
    expect(isKsuid(id)).toBe(false);
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 123, {}, new String(MIN_ID)]) {
      expect(() => parseKsuid(value as any)).toThrow(/KSUID must be a string/);
      expect(isKsuid(value)).toBe(false);
    }
  });

  it('KSUID_PATTERN checks the shape only, isKsuid the range too', () => {
    expect(KSUID_PATTERN.test(MAX_ID)).toBe(true);
    expect(KSUID_PATTERN.test('zzzzzzzzzzzzzzzzzzzzzzzzzzz')).toBe(true);
    expect(KSUID_PATTERN.test(`${MAX_ID}\n`)).toBe(false);
    expect(isKsuid(MAX_ID)).toBe(true);
  });

  it.each([EPOCH - 1, MAX_SECONDS + 1, 1_500_000_000.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'formatKsuid rejects timestamp %s',
    (seconds) => {
      expect(() => formatKsuid(seconds, new Uint8Array(16))).toThrow(TypeError);
      expect(() => formatKsuid(seconds, new Uint8Array(16))).toThrow(/whole unix seconds/);
    },
  );

  it.each([
    ['15 bytes', new Uint8Array(15)],
    ['17 bytes', new Uint8Array(17)],
    ['object', Array.from({ length: 16 }, () => 0)],
  ])('formatKsuid rejects a payload of %s', (got, payload) => {
    expect(() => formatKsuid(EPOCH, payload as any)).toThrow(TypeError);
    expect(() => formatKsuid(EPOCH, payload as any)).toThrow(`16 bytes, got ${got}`);
  });
});

describe('portability', () => {
  it('bundles for the browser with no imports and no Node globals', async () => {
    const result = await build({
      entryPoints: [new URL('./ksuid.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text ?? '';

    expect(Object.keys(result.metafile.inputs)).toEqual([expect.stringMatching(/ksuid\.ts$/)]);
    expect(code).not.toMatch(/\b(?:Buffer|process|require|global)\b|node:/);
  });
});
