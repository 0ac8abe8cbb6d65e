import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BundleSize,
  browserEntryFile,
  describeBundle,
  MEASURED_ENTRIES,
  measureBrowserEntry,
  measureBundle,
  unwantedZodModules,
} from './browser-bundle.ts';
import { BUNDLE_BUDGETS } from './bundle-budgets.ts';

// An app that uses strata pays for what it uses (issue 18): the browser entries stay within
// their byte budgets, and none of them ships classic zod or zod's locales.
describe.each(MEASURED_ENTRIES)('the browser bundle of entry "%s"', (entry) => {
  let size: BundleSize;
  beforeAll(async () => {
    size = await measureBrowserEntry(entry);
    console.info(describeBundle(size));
  });

  it('is within its budget (bundle-budgets.ts)', () => {
    const budget = BUNDLE_BUDGETS[entry];
    expect({ minified: size.minified, gzip: size.gzip }).toEqual({
      minified: expect.toSatisfy((bytes: number) => bytes <= budget.minified),
      gzip: expect.toSatisfy((bytes: number) => bytes <= budget.gzip),
    });
  });

  it('holds strata itself (the measurement is not of an empty bundle)', () => {
    const folder = entry === '.' ? 'packages/browser/src/' : 'packages/browser/src/react/';
    expect(size.inputs.filter((path) => path.startsWith(folder)).length).toBeGreaterThan(3);
    expect(size.share.strata).toBeGreaterThan(1000);
  });

  it('has no classic zod and no zod locale but English among its modules', () => {
    expect(unwantedZodModules(size.inputs)).toEqual([]);
    expect(size.share.zodLocales).toBeLessThanOrEqual(4_000);
  });
});

describe('the main entry', () => {
  it('parses with zod/mini and the English locale only', async () => {
    const { inputs } = await measureBrowserEntry('.');
    const zod = inputs.filter((path) => path.includes('node_modules/.pnpm/zod@'));
    expect(zod.some((path) => path.endsWith('zod/v4/mini/schemas.js'))).toBe(true);
    expect(zod.filter((path) => path.includes('/locales/'))).toEqual([
      expect.stringMatching(/zod\/v4\/locales\/en\.js$/),
    ]);
  });
});

describe('@strata/core bundled whole (every export an app may import with the browser entry)', () => {
  it('has no classic zod and no zod locale but English either', async () => {
    const size = await measureBundle('@strata/core', {
      file: browserEntryFile('.').replace(/browser\/src\/index\.ts$/, 'core/src/index.ts'),
    });
    console.info(describeBundle(size));
    expect(size.inputs).toContainEqual(expect.stringMatching(/zod\/v4\/mini\/schemas\.js$/));
    expect(unwantedZodModules(size.inputs)).toEqual([]);
  });
});

describe('the zod check (it can fail)', () => {
  it.each([
    ["import { z } from 'zod'; export const s = z.string();", /v4\/classic\//],
    ["import { z } from 'zod/mini'; export const s = z.string();", /v4\/locales\/(?!en\.js)/],
    ["import { de } from 'zod/v4/locales'; export const l = de;", /v4\/locales\/de\.js$/],
  ])('finds what %j ships', async (contents, unwanted) => {
    const size = await measureBundle('probe', {
      contents,
      resolveDir: browserEntryFile('.').replace(/\/src\/index\.ts$/, '/../core'),
    });
    expect(unwantedZodModules(size.inputs)).toContainEqual(expect.stringMatching(unwanted));
  });

  it("lets core's own zod use through", async () => {
    const size = await measureBundle('probe', {
      contents:
        "import * as z from 'zod/mini'; import en from 'zod/v4/locales/en.js'; export const s = [z.string(), en];",
      resolveDir: browserEntryFile('.').replace(/\/src\/index\.ts$/, '/../core'),
    });
    expect(size.share.zod).toBeGreaterThan(0);
    expect(unwantedZodModules(size.inputs)).toEqual([]);
  });
});
