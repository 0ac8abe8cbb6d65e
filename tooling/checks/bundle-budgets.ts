// Byte budgets of the browser bundles an app pays for strata (bundle-size.test.ts). Measured
// 2026-12-03 with `pnpm tsx tooling/checks/browser-bundle.ts` (esbuild 0.28.2, minify, browser
// platform, ESM; react, react-dom, vue and svelte external; dexie bundled; gzip = zlib level 6):
//
//   @strata/browser        239,220 B minified, 77,607 B gzip (zod 37,139 B of it, 2,688 B its
//                          English locale; dexie 100,294 B; strata 101,044 B)
//   @strata/browser/react    1,603 B minified,    722 B gzip (strata only: the hooks take the
//                          Strata object, so they pull nothing of the runtime)
//
// Before strata's schemas moved to zod/mini (issue 18, commit 5794c1b) @strata/browser was
// 657,822 B minified, 159,970 B gzip, 454,453 B of it zod (263,831 B its locales).
//
// Each budget is the figure above plus ~7% (10% for the tiny react entry). Growing past one is a
// choice to make on purpose: measure, look at what grew (the test prints the shares), and raise
// the budget here with the new figure and date.
import type { MeasuredEntry } from './browser-bundle.ts';

export interface BundleBudget {
  readonly minified: number;
  readonly gzip: number;
}

export const BUNDLE_BUDGETS: Readonly<Record<MeasuredEntry, BundleBudget>> = {
  '.': { minified: 256_000, gzip: 83_000 },
  './react': { minified: 1_760, gzip: 800 },
};
