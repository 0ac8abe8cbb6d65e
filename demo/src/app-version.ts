// Replaced at build time by vite's `define` (vite.config.ts): the package version, or
// `STRATA_DEMO_VERSION` when the build names itself.
declare const __APP_VERSION__: string;

/** This build's version, as the footer shows it (tests tell two deployments apart by it). */
export const APP_VERSION: string = __APP_VERSION__;
