/**
 * Builds the demo app unless the last build is of the same inputs (build-inputs.ts), so that
 * `pnpm start` after a Ctrl-C starts in a second. `pnpm start` runs it before the server:
 *
 *   tsx demo/ensure-build.ts [outDir]   # default: demo/dist
 *
 * `pnpm --filter @strata/demo build` still builds unconditionally.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'vite';
import { type DemoLayout, isBuildCurrent, writeStamp } from './build-inputs.ts';

const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
const layout: DemoLayout = { demoDir: DEMO_DIR, repoDir: resolve(DEMO_DIR, '..') };

/** `built`: it ran a build; `current`: the last one was of these inputs. */
export async function ensureDemoBuild(
  outDir: string = resolve(DEMO_DIR, 'dist'),
  log: (line: string) => void = console.log,
): Promise<'built' | 'current'> {
  if (await isBuildCurrent(layout, outDir)) {
    log('demo: no input changed since the last build; not rebuilding');
    return 'current';
  }
  log('demo: building the app…');
  const started = performance.now();
  const modules = new Set<string>();
  const collect: Plugin = {
    name: 'strata-demo-build-inputs',
    buildEnd() {
      for (const id of this.getModuleIds()) modules.add(id);
    },
  };
  await build({
    root: DEMO_DIR,
    configFile: resolve(DEMO_DIR, 'vite.config.ts'),
    logLevel: 'warn',
    plugins: [collect],
    build: { outDir, emptyOutDir: true },
  });
  // Only once the build has succeeded: a failed one leaves no stamp, and the next start retries.
  await writeStamp(layout, outDir, modules);
  log(`demo: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 'built';
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  const outDir = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
  ensureDemoBuild(outDir).catch((error: unknown) => {
    console.error('[strata] the demo could not be built:', error);
    process.exit(1);
  });
}
