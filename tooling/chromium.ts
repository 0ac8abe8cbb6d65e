/**
 * The OS's Chromium for every browser tier (Vitest browser mode, the multi-page E2E tests and
 * the browser benchmarks). Tools must never download a browser of their own: it fails here.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launch arguments that work as root in a container. Without the background-networking flags
 * Chromium keeps dialling hosts this machine cannot reach.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
