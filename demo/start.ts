/**
 * `pnpm start` at the repository root: builds the app if any of its inputs changed since the
 * last build (ensure-build.ts), then starts the demo's server (server.ts).
 */
import { ensureDemoBuild } from './ensure-build.ts';
import { startDemoServer } from './server.ts';

try {
  await ensureDemoBuild();
  const server = await startDemoServer();
  console.log(`\n  strata TodoMVC demo: open ${server.url}\n`);
} catch (error) {
  console.error('[strata] the demo could not start:', error);
  process.exit(1);
}
