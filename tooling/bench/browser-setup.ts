/**
 * Node-side set-up for a browser bench file, and how its page reads what the set-up made.
 *
 * A `x.browser.bench.ts` may have a sibling `x.browser.bench.setup.ts`. The runner (chromium.ts)
 * imports it in Node, once the page's server listens and before the page opens, and calls its
 * default export with the page's origin. Whatever JSON `params` it returns is put on the page
 * (inline, before the bench script runs) and read there with `benchParams()`; its `teardown`
 * runs after the browser closed. Typical use: start a server the page talks to (allowing the
 * page's origin through CORS) and hand the page its URL.
 *
 * @example
 * // x.browser.bench.setup.ts (Node)
 * export default defineBrowserBenchSetup(async ({ origin }) => {
 *   const server = await startServer({ corsOrigins: [origin] });
 *   return { params: { url: server.url }, teardown: () => server.stop() };
 * });
 * // x.browser.bench.ts (page)
 * const { url } = benchParams<{ url: string }>();
 */

/** What the runner tells a set-up about the page. */
export interface BrowserBenchPage {
  /** e.g. `http://strata-bench.localhost:41234`. */
  readonly origin: string;
}

/** What a set-up hands back. */
export interface BrowserBenchSetup {
  /** Anything JSON can carry; the page reads it with `benchParams()`. */
  readonly params?: unknown;
  /** Called after the browser closed (also when a benchmark failed). */
  readonly teardown?: () => unknown | Promise<unknown>;
}

export type BrowserBenchSetupFunction = (page: BrowserBenchPage) => Promise<BrowserBenchSetup>;

/** Defines a set-up module's default export; a typed identity. */
export function defineBrowserBenchSetup(
  setup: BrowserBenchSetupFunction,
): BrowserBenchSetupFunction {
  return setup;
}

/** The global the runner's page sets before the bench script runs. */
export const PARAMS_GLOBAL = '__strataBenchParams';

/**
 * In the page: the `params` of the file's set-up. Throws when there are none (no
 * `x.browser.bench.setup.ts`, or it returned no params).
 */
export function benchParams<T>(): T {
  const params = (globalThis as Record<string, unknown>)[PARAMS_GLOBAL];
  if (params === undefined || params === null) {
    throw new Error('No bench params: this page has no x.browser.bench.setup.ts with params');
  }
  return params as T;
}

/** The inline script that sets the params on the page, safe inside `<script>`. */
export function paramsScript(params: unknown): string {
  const json = JSON.stringify(params ?? null).replace(/</g, '\\u003c');
  return `<script>globalThis.${PARAMS_GLOBAL} = ${json};</script>`;
}
