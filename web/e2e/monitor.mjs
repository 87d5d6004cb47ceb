// The monitor's pages in Chromium: the dashboard and status page show a
// check going up, then down when its target fails, then up again; the
// dashboard draws response-time sparklines and 90-day bars and filters by
// state, label and group through the URL; the check page draws its history
// chart with the failures marked and lists the state changes; "Run now"
// refuses without a key (401) and with a plain key (403) and runs the check
// with an admin key. Screenshots: monitor-*.png.
// Usage: node web/e2e/monitor.mjs BASE FLIP_URL ADMIN_KEY PLAIN_KEY
import { checker, open, shot } from './lib.mjs';

const [base, flip, adminKey, plainKey] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;

// waitFor reloads path until cond() holds (20 s at most).
async function waitFor(path, cond) {
  const deadline = Date.now() + 20000;
  for (;;) {
    await page.goto(base + path);
    await page.waitForSelector('body[data-ready="true"]');
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await page.waitForTimeout(500);
  }
}

// waitState reloads a page until the row of "web health" shows want.
function waitState(path, want) {
  return waitFor(path, async () => {
    const row = page.locator('tr', { hasText: 'web health' });
    return (await row.count()) > 0 && (await row.first().innerText()).includes(want);
  });
}

const row = (name) => page.locator('tbody tr', { hasText: name });
const rowNames = async () => (await page.locator('table.checks tbody tr td:nth-child(2)').allInnerTexts()).map((t) => t.trim());
const sparkPoints = async (name) => Number(await row(name).locator('svg.spark').getAttribute('data-points'));

// applyFilter changes the dashboard's filters and waits for the page they load.
async function applyFilter(want, change) {
  await Promise.all([page.waitForURL((u) => want.every(([k, v]) => u.searchParams.get(k) === v)), change()]);
  await page.waitForSelector('body[data-ready="true"]');
}

async function dashboard() {
  c.ok(await waitState('/checks', 'up'), 'dashboard: web health never showed up');
  // Every page's header links the monitor's pages; the current one is marked.
  const watchNav = page.locator('nav.watch-nav');
  c.ok((await watchNav.locator('a[href="/checks"][aria-current=page]').count()) === 1, 'header: no current-page link to /checks on the dashboard');
  c.ok((await watchNav.locator('a[href="/status"]').count()) === 1, 'header: no link to /status');
  // Minute rollups are written every 2 s: wait for the sparkline's points.
  c.ok(await waitFor('/checks', async () => (await sparkPoints('web health')) > 0), 'dashboard: no sparkline points for web health');
  const spark = row('web health').locator('svg.spark');
  c.ok(await spark.locator('circle').count() > 0, 'dashboard: the sparkline of web health draws no point');
  c.ok((await spark.getAttribute('aria-label')).includes('ms'), 'dashboard: the sparkline has no response time in its label');
  c.ok((await sparkPoints('web daily')) === 0, 'dashboard: web daily never ran but its sparkline has points');
  c.ok((await row('web health').locator('.uptime-bars .bar').count()) === 90, 'dashboard: web health has no 90 uptime bars');
  c.ok((await row('web health').locator('.uptime-bars .bar').last().getAttribute('class')).includes('ok'), 'dashboard: today\'s bar of web health is not ok');
  await shot(page, 'monitor-dashboard-up', true);
}

async function filters() {
  await applyFilter([['status', 'down']], () => page.selectOption('select[name=status]', 'down'));
  c.ok(new URL(page.url()).searchParams.get('status') === 'down', `filter: the URL lacks status=down: ${page.url()}`);
  c.ok(JSON.stringify(await rowNames()) === '["web health"]', `filter state=down shows ${JSON.stringify(await rowNames())}, want only web health`);
  c.ok(await page.locator('select[name=status]').inputValue() === 'down', 'filter: the state select does not show down after the reload');
  await shot(page, 'monitor-dashboard-filter-down', true);
  await page.goto(base + '/checks');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('input[name=label]', 'layer=tcp');
  await applyFilter([['label', 'layer=tcp']], () => page.click('form.filters button[type=submit]'));
  c.ok(JSON.stringify(await rowNames()) === '["web port"]', `filter label=layer=tcp shows ${JSON.stringify(await rowNames())}, want only web port`);
  await shot(page, 'monitor-dashboard-filter-label', true);
  await applyFilter([['label', 'layer=tcp'], ['group', 'batch']], () => page.selectOption('select[name=group]', 'batch'));
  c.ok((await page.locator('table.checks').count()) === 0, 'filter group=batch and label=layer=tcp: a table, want none');
  c.ok((await page.locator('.count').innerText()).includes('No check matches'), 'filter with no match: no "No check matches" message');
  await shot(page, 'monitor-dashboard-filter-empty', true);
  await page.goto(base + '/checks?label=layer');
  await page.waitForSelector('body[data-ready="true"]');
  const alert = page.locator('[role=alert]');
  c.ok((await alert.count()) > 0 && (await alert.first().innerText()).includes('NAME=VALUE'), 'filter with a bad label: the server\'s error is not shown');
}

async function checkPage() {
  c.ok(await waitFor('/checks?id=web-health', async () => Number(await page.locator('svg.chart').getAttribute('data-failures')) > 0),
    'check page: the history chart marks no failed minute of web health');
  c.ok(Number(await page.locator('svg.chart').getAttribute('data-points')) > 0, 'check page: the history chart has no points');
  c.ok(await page.locator('svg.chart path.line').count() === 1, 'check page: the history chart draws no line');
  c.ok(await page.locator('svg.chart .fail-mark').count() > 0, 'check page: no failure marks on the chart');
  const text = await page.locator('main').innerText();
  for (const want of ['pending', 'down', '2 failing runs in a row', '2 passing runs in a row', '24h']) {
    c.ok(text.includes(want), `check page: no "${want}"`);
  }
  await shot(page, 'monitor-check', true);
}

// runNow presses Run now with key and returns the alert or notice shown.
async function runNow(key) {
  await page.fill('input[name=admin_key]', key);
  await page.click('form.run-now button[type=submit]');
  const msg = page.locator('.run-msg .alert[role=alert], .run-msg .alert.ok');
  await msg.first().waitFor();
  return msg.first();
}

async function runNowPage() {
  await page.goto(base + '/checks?id=web-daily');
  await page.waitForSelector('body[data-ready="true"]');
  const before = await page.locator('.last-run').getAttribute('data-at');
  let msg = await runNow('');
  c.ok((await msg.getAttribute('data-status')) === '401' && (await msg.innerText()).includes('admin API key'), `run now without a key: ${await msg.innerText()}`);
  await shot(page, 'monitor-run-now-401', true);
  msg = await runNow(plainKey);
  c.ok((await msg.getAttribute('data-status')) === '403' && (await msg.innerText()).includes('not an admin key'), `run now with a plain key: ${await msg.innerText()}`);
  c.ok((await page.locator('.last-run').getAttribute('data-at')) === before, 'run now was refused but the last run changed');
  msg = await runNow(adminKey);
  const text = await msg.innerText();
  c.ok(text.includes('Ran now') && (await msg.getAttribute('class')).includes('ok'), `run now with an admin key: ${text}`);
  const after = await page.locator('.last-run').getAttribute('data-at');
  c.ok(after !== '' && after !== before, `run now: the last run did not change (${before} → ${after})`);
  c.ok((await page.locator('.last-run').innerText()).includes(' ok in '), `run now: the new result is not shown: ${await page.locator('.last-run').innerText()}`);
  await shot(page, 'monitor-run-now-ok', true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  c.ok(await page.locator('input[name=admin_key]').inputValue() === adminKey, 'run now: the admin key was not kept for the tab');
}

try {
  await dashboard();
  await fetch(flip);
  c.ok(await waitState('/checks', 'down'), 'dashboard: web health never went down after the target failed');
  c.ok((await page.locator('tr', { hasText: 'web health' }).innerText()).includes('status == 200'), 'dashboard: the failing condition is not shown');
  await shot(page, 'monitor-dashboard-down', true);
  await filters();
  c.ok(await waitState('/status', 'down'), 'status page: web health not down');
  c.ok((await page.locator('[role=status]').innerText()).includes('web health'), 'status page: no current incident for web health');
  c.ok(await page.locator('.uptime-bars .bar').count() > 0, 'status page: no uptime bars');
  await shot(page, 'monitor-status-down', true);
  await fetch(flip);
  c.ok(await waitState('/status', 'up'), 'status page: web health did not come back up');
  c.ok((await page.locator('[role=status]').innerText()).includes('All systems operational'), 'status page: still shows an incident');
  await shot(page, 'monitor-status-up', true);
  await checkPage();
  await runNowPage();
  c.ok(b.offsite.length === 0, `requests left the server: ${b.offsite.join(', ')}`);
  // The refused runs (401, 403) and the bad label (400) are logged by the browser as failed loads.
  const errs = b.consoleErrors.filter((e) => !/status of (400|401|403)/.test(e));
  c.ok(errs.length === 0, `console errors: ${errs.join('; ')}`);
} catch (err) {
  c.ok(false, `stopped: ${err.message}`); // with the failures seen before
} finally {
  await b.close();
}
c.done('monitor pages');
