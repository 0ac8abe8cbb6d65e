import type { NodeServer } from '@strata/edge-server/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, chromium } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, startTestServer, tempFolder } from '../e2e/harness.ts';

// The demo's devtools toggle as a developer meets it: the built app and its server (PGlite), in
// real Chromium. The footer's "devtools" button opens the strata panel over the app, the panel
// shows the todo just added, and the choice is remembered across a reload.

let browser: Browser;
let server: NodeServer;
const folders: { remove(): Promise<void> }[] = [];

beforeAll(async () => {
  const [dist, data] = await Promise.all([tempFolder('dist'), tempFolder('data')]);
  folders.push(dist, data);
  [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    buildDemo(dist.path),
  ]);
  server = await startTestServer({ staticDir: dist.path, dataDir: `${data.path}/strata` });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const folder of folders) await folder.remove();
});

describe('demo devtools toggle', () => {
  it('opens the panel from the footer, shows the app’s events, and stays open after a reload', async () => {
    const context = await browser.newContext();
    const errors: string[] = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(server.url);
      await page.locator('input.new-todo').waitFor({ timeout: 15_000 });
      const panel = page.locator('[data-strata-devtools]');
      expect(await panel.count()).toBe(0);

      await page.getByRole('button', { name: 'devtools', exact: true }).click();
      await panel.waitFor();
      await page.locator('input.new-todo').fill('Seen in devtools');
      await page.locator('input.new-todo').press('Enter');
      const log = panel.locator('[data-devtools-entry="log"] > summary');
      await expect.poll(() => log.first().textContent(), { timeout: 15_000 }).toMatch(/TodoAdded/);
      await panel.getByRole('tab', { name: 'Status' }).click();
      await expect
        .poll(() => panel.locator('[data-status="connected"]').textContent(), { timeout: 15_000 })
        .toBe('yes, live');

      await page.reload();
      await panel.waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'hide devtools' }).click();
      expect(await panel.count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
