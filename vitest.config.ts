import { svelte } from '@sveltejs/vite-plugin-svelte';
import vue from '@vitejs/plugin-vue';
import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig } from 'vitest/config';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './tooling/chromium.ts';

/**
 * One Vitest project per test tier, chosen by file name:
 * - `x.test.ts`          unit: fast, in Node, no services, no child process
 * - `x.process.test.ts`  process: Node with child processes and real folders (the CLI, the build)
 * - `x.pg.test.ts`       pg: a real Postgres server through the Neon driver
 * - `x.browser.test.ts`  browser: real Chromium (/usr/bin/chromium)
 * - `x.workerd.test.ts`  workerd: Cloudflare's runtime through miniflare
 * - `x.e2e.test.ts`      chromium-e2e: Node drives several pages of real Chromium (playwright)
 */
// Product code and its colocated tests live in src/; scaffolding (suites, fixtures, e2e apps,
// benches) in each package's test/ folder, which builds and product type-checks exclude.
const sources = [
  'packages/*/src/**',
  'packages/*/test/**',
  'demo/src/**',
  'examples/*/src/**',
  'tooling/**',
];
const tiers = ['process', 'pg', 'browser', 'workerd', 'e2e'] as const;
const inTier = (tier: string) => sources.map((dir) => `${dir}/*.${tier}.test.ts`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: sources.map((dir) => `${dir}/*.test.ts`),
          // Threads start faster than forks, and every core works: Vitest's default leaves one
          // idle, which on a 2-core machine is half of it.
          pool: 'threads',
          maxWorkers: '100%',
          // Vitest runs projects of one group with one worker count: the unit tier is a group
          // of its own, after the others (in `pnpm test`).
          sequence: { groupOrder: 1 },
          // Vitest's defaults (node_modules: tooling/ is a package with its own) plus the other tiers.
          exclude: [...configDefaults.exclude, ...tiers.flatMap(inTier)],
          // One migrated PGlite per run, loaded by the tests that need one (tooling/pglite/).
          globalSetup: ['tooling/pglite/global-setup.ts'],
          typecheck: {
            enabled: true,
            include: sources.map((dir) => `${dir}/*.test-d.ts`),
            tsconfig: './tsconfig.type-tests.json',
          },
        },
      },
      {
        // Spawned servers and CLIs (tsx compiles each), lock files in real folders, the packages'
        // build: seconds per test, so kept out of the tier developers run most.
        test: {
          name: 'process',
          include: inTier('process'),
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        // A throwaway Postgres cluster (or STRATA_TEST_DATABASE_URL) + a WebSocket
        // proxy for the Neon driver; see tooling/postgres/.
        test: {
          name: 'pg',
          include: inTier('pg'),
          environment: 'node',
          globalSetup: ['tooling/postgres/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Tests run inside headless Chromium from the OS (never a downloaded browser). The Vue and
        // Svelte plugins compile the bindings' test components (.vue, .svelte) and the example
        // apps' components those tests render.
        plugins: [vue(), svelte()],
        test: {
          name: 'browser',
          include: inTier('browser'),
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: CHROMIUM_PATH,
                args: [...CHROMIUM_ARGS],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        // Node-side tests that bundle a worker and run it in workerd; see tooling/workerd/.
        // The sync worker talks to real Postgres through the Neon driver, so this tier gets the
        // same throwaway Postgres + WebSocket proxy as the pg tier (tooling/postgres/).
        test: {
          name: 'workerd',
          include: inTier('workerd'),
          environment: 'node',
          globalSetup: ['tooling/postgres/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Node-side tests that serve a bundled page and drive several pages of Chromium from the
        // OS through playwright (reloads, offline, two tabs of one origin); see
        // packages/browser/test/e2e/. One file at a time: each launches its own browser. The sync
        // tests run the edge server on the same throwaway Postgres as the pg tier.
        test: {
          name: 'chromium-e2e',
          include: inTier('e2e'),
          environment: 'node',
          globalSetup: ['tooling/postgres/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
