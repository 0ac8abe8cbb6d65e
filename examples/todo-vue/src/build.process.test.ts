import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const app = dirname(dirname(fileURLToPath(import.meta.url)));
const out = mkdtempSync(join(tmpdir(), 'strata-todo-vue-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('builds with vite build: a page and its script', async () => {
  const vite = join(app, 'node_modules/vite/bin/vite.js');
  await run(process.execPath, [vite, 'build', '--outDir', out, '--logLevel', 'error'], {
    cwd: app,
  });
  expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(
    /<script type="module"[^>]+assets\//,
  );
  const scripts = readdirSync(join(out, 'assets')).filter((file) => file.endsWith('.js'));
  expect(scripts).toHaveLength(1);
  // The app's own code made it in (the bundle is minified; strings survive).
  const bundle = readFileSync(join(out, 'assets', scripts[0] as string), 'utf8');
  expect(bundle).toContain('strata-todo-vue');
});
