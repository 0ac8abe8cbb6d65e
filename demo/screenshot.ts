/**
 * Takes the README's screenshots of the built demo in headless Chromium: a laptop
 * (`docs/demo.png`, 1100 px wide: a few todos, one of them done, a rejected offline edit and a
 * todo's history open) and a phone (`docs/demo-phone.png`, 390 px: the same list from another
 * device, a todo's history open as a sheet).
 *
 *   pnpm --filter @strata/demo screenshot    (builds first; or: tsx demo/screenshot.ts [out.png [phone.png]])
 *
 * Runs its own server on a temporary data folder and port; `demo/.data` is left alone.
 */
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { chromium, type Page } from 'playwright';
import { serverEvents, startTestServer, tempFolder } from './e2e/harness.ts';
import { DEMO_DIST_DIR } from './server.ts';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const phoneOut =
  process.argv[3] ?? fileURLToPath(new URL('../docs/demo-phone.png', import.meta.url));
const TIMEOUT = 20_000;

const item = (page: Page, title: string) =>
  page.locator('ul.todo-list > li').filter({ has: page.locator('label', { hasText: title }) });

async function add(page: Page, title: string): Promise<void> {
  await page.locator('input.new-todo').fill(title);
  await page.locator('input.new-todo').press('Enter');
  await item(page, title).waitFor();
}

async function synced(page: Page): Promise<void> {
  await page
    .locator('.sync-status[data-connected="true"][data-pending="0"]')
    .waitFor({ state: 'attached', timeout: TIMEOUT });
}

async function main(): Promise<void> {
  const data = await tempFolder('screenshot');
  const server = await startTestServer({ staticDir: DEMO_DIST_DIR, dataDir: `${data.path}/db` });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const laptop = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const phone = await browser.newContext({
      viewport: { width: 390, height: 760 },
      deviceScaleFactor: 2,
    });
    const page = await laptop.newPage();
    const other = await phone.newPage();
    for (const tab of [page, other]) {
      await tab.goto(server.url);
      await tab.locator('input.new-todo').waitFor({ timeout: TIMEOUT });
    }

    for (const title of [
      'Buy oat milk',
      'Plan the trip to Lisbon',
      'Book the train',
      'Water the plants',
    ]) {
      await add(page, title);
    }
    await item(page, 'Water the plants').locator('input.toggle').click();
    await synced(page);
    await item(other, 'Plan the trip to Lisbon').waitFor({ timeout: TIMEOUT });

    // The laptop goes offline and renames a todo the phone removes meanwhile.
    await laptop.setOffline(true);
    await page.locator('.sync-status[data-online="false"]').waitFor({ timeout: TIMEOUT });
    await item(page, 'Plan the trip to Lisbon').locator('label').dblclick();
    await page.locator('li.editing input.edit').fill('Plan the trip to Porto');
    await page.locator('li.editing input.edit').press('Enter');
    await item(page, 'Plan the trip to Porto').waitFor();
    const removed = item(other, 'Plan the trip to Lisbon');
    await removed.hover();
    await removed.locator('button.destroy').click();
    while (!(await serverEvents(server.url)).some((event) => event.type === 'TodoRemoved')) {
      await other.waitForTimeout(50);
    }
    await laptop.setOffline(false);
    await page.locator('.rejected-notice').waitFor({ timeout: TIMEOUT });
    await synced(page);

    await item(page, 'Buy oat milk').locator('label').dblclick();
    await page.locator('li.editing input.edit').fill('Buy oat milk and bread');
    await page.locator('li.editing input.edit').press('Enter');
    await item(page, 'Buy oat milk and bread').locator('button.history').click();
    await page.locator('aside.history li.history-event').first().waitFor();
    await synced(page);
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);

    // The phone: the renamed todo arrived; its history opens as a sheet over the list.
    await item(other, 'Buy oat milk and bread').waitFor({ timeout: TIMEOUT });
    await synced(other);
    await item(other, 'Buy oat milk and bread').locator('button.history').click();
    await other.locator('aside.history li.history-event').nth(1).waitFor({ timeout: TIMEOUT });
    await other.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await other.screenshot({ path: phoneOut });
    console.log(`wrote ${phoneOut}`);
  } finally {
    await browser.close();
    await server.close();
    await data.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
