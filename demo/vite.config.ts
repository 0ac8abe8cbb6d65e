import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import demoPackage from './package.json' with { type: 'json' };

// `pnpm build` writes dist/, which the strata server serves next to the sync API (one origin).
// `pnpm dev` serves the app with hot reload and forwards the API to a local edge server
// (`pnpm --filter @strata/edge-server start`), so `location.origin` is the sync URL either way.
const api = 'http://127.0.0.1:8787';

/** Paths of the sync server itself: never answered by the service worker (see below). */
const SERVER_PATHS = [/^\/v\d+(\/|$)/, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/];

export default defineConfig({
  // The version the footer shows; a deployment can name its build (`STRATA_DEMO_VERSION=…`).
  define: {
    __APP_VERSION__: JSON.stringify(process.env.STRATA_DEMO_VERSION ?? demoPackage.version),
  },
  plugins: [
    react(),
    // An installable app whose files a service worker (Workbox) precaches, so a reload without
    // the network opens it from the cache and its data from IndexedDB. A new deployment is
    // installed in the background and waits: `prompt`, not `autoUpdate`, so the page reloads
    // only when the user says so and no command is mid-write (src/update-prompt.tsx).
    VitePWA({
      registerType: 'prompt',
      // The page registers the worker itself, from update-prompt.tsx (virtual:pwa-register/react).
      injectRegister: false,
      includeAssets: ['apple-touch-icon.png'],
      manifest: {
        name: 'strata • TodoMVC',
        short_name: 'strata todos',
        description:
          'An offline-first todo list on strata: works without the network, syncs when back.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#f5f5f5',
        theme_color: '#b83f45',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          {
            src: 'icon-maskable-512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // The built app; the manifest, its icons and `includeAssets` are added by the plugin.
        globPatterns: ['**/*.{js,css,html}'],
        // Every navigation is the app (one page; the filter is in the hash), except the server's
        // own routes: a link to /v1/..., /healthz or /metrics must reach the server, never the
        // cached shell.
        navigateFallback: 'index.html',
        navigateFallbackDenylist: SERVER_PATHS,
        // No runtime caching: sync responses are never cached (a cached pull or event stream
        // would replay stale data as if it were the server's). Requests the precache does not
        // hold go to the network untouched.
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        // The first visit is controlled at once (so it is ready offline without a reload). Updates
        // still wait for the prompt: skipWaiting stays off until the user clicks Reload.
        clientsClaim: true,
        skipWaiting: false,
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One chunk on purpose: the service worker precaches it whole for offline use, so splitting
    // it saves nothing on the first visit. (Vite warns past 500 kB; the browser package's own
    // size has a budget of its own.) Measured: 565 kB minified with zod's full build.
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's own prose comments mention `@__PURE__` (core/util.js: "Wrapped in a `@__PURE__`
        // IIFE…", core/regexes.js: "…will not drop a `@__PURE__` call…"). Rollup reads any
        // comment holding that marker as an annotation, finds it in no place an annotation can
        // be, drops the comment and warns. Nothing is lost (the real annotations next to them
        // are read), and the files are zod's (zod/mini shares them): only that warning, only
        // for zod, is silenced.
        const inZod = /[\\/]node_modules[\\/]zod[\\/]/.test(warning.id ?? '');
        if (warning.code === 'INVALID_ANNOTATION' && inZod) return;
        warn(warning);
      },
    },
  },
  server: { proxy: { '/v1': api, '/v2': api, '/healthz': api } },
  preview: { proxy: { '/v1': api, '/v2': api, '/healthz': api } },
});
