import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// `pnpm dev` serves the app and forwards the sync API to a local edge server
// (`pnpm --filter @strata/edge-server start`), so `location.origin` is the sync URL.
const api = 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/v1': api, '/v2': api, '/healthz': api } },
});
