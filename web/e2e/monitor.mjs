// The monitor's pages in Chromium: the dashboard and status page show a
// check going up, then down when its target fails, then up again; the
// check page lists the state changes. Screenshots: monitor-*.png.
// Usage: node web/e2e/monitor.mjs BASE FLIP_URL
import { checker, open, shot } from './lib.mjs';

const [base, flip] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;

// waitState reloads a page until the row of "web health" shows want.
async function waitState(path, want) {
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(base + path);
    await page.waitForSelector('body[data-ready="true"]');
    const row = page.locator('tr', { hasText: 'web health' });
    if ((await row.count()) && (await row.first().innerText()).includes(want)) return true;
    if (Date.now() > deadline) return false;
    await page.waitForTimeout(500);
  }
}

try {
  c.ok(await waitState('/checks', 'up'), 'dashboard: web health never showed up');
  await shot(page, 'monitor-dashboard-up', true);
  await fetch(flip);
  c.ok(await waitState('/checks', 'down'), 'dashboard: web health never went down after the target failed');
  c.ok((await page.locator('tr', { hasText: 'web health' }).innerText()).includes('status == 200'), 'dashboard: the failing condition is not shown');
  await shot(page, 'monitor-dashboard-down', true);
  c.ok(await waitState('/status', 'down'), 'status page: web health not down');
  c.ok((await page.locator('[role=status]').innerText()).includes('web health'), 'status page: no current incident for web health');
  c.ok(await page.locator('.uptime-bars .bar').count() > 0, 'status page: no uptime bars');
  await shot(page, 'monitor-status-down', true);
  await fetch(flip);
  c.ok(await waitState('/status', 'up'), 'status page: web health did not come back up');
  c.ok((await page.locator('[role=status]').innerText()).includes('All systems operational'), 'status page: still shows an incident');
  await shot(page, 'monitor-status-up', true);
  await page.goto(base + '/checks?id=web-health');
  await page.waitForSelector('body[data-ready="true"]');
  const text = await page.locator('main').innerText();
  for (const want of ['pending', 'down', '2 failing runs in a row', '2 passing runs in a row', '24h']) {
    c.ok(text.includes(want), `check page: no "${want}"`);
  }
  await shot(page, 'monitor-check', true);
  c.ok(b.offsite.length === 0, `requests left the server: ${b.offsite.join(', ')}`);
  c.ok(b.consoleErrors.length === 0, `console errors: ${b.consoleErrors.join('; ')}`);
} finally {
  await b.close();
}
c.done('monitor pages');
