import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm build` writes dist/, which the strata server serves next to the sync API (one origin).
// `pnpm dev` serves the app with hot reload and forwards the API to a local edge server
// (`pnpm --filter @strata/edge-server start`), so `location.origin` is the sync URL either way.
const api = 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/v1': api, '/healthz': api } },
  preview: { proxy: { '/v1': api, '/healthz': api } },
});
