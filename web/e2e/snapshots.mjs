// Browser test of the snapshots page: node snapshots.mjs BASE BEFORE AFTER
// BEFORE and AFTER are name servers (address:port) of api.test: AFTER
// serves it with www changed and api added. The page takes a snapshot from
// BEFORE, lists it, and diffs it with now asked of AFTER.
import { axe, checker, open, ready, shot } from './lib.mjs';

const [base, before, after] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;

try {
  await page.goto(base + '/snapshots');
  await ready(page);
  c.ok(await page.locator('input[name=target]').count() === 1 && await page.locator('input[name=server]').count() === 1, 'the page has the snapshot form');
  c.ok((await page.textContent('.tools-nav')).includes('Snapshots'), '/snapshots is in the tools navigation');
  await page.fill('input[name=target]', 'api.test');
  await page.click('button:has-text("Show snapshots")');
  await page.waitForSelector('.snapshot-list p.muted');
  c.ok((await page.textContent('.snapshot-list')).includes('no snapshots'), 'a new client has no snapshots of api.test');

  await page.fill('input[name=server]', before);
  await page.click('button[type=submit]');
  await page.waitForSelector('table.snapshots tbody tr', { timeout: 30000 });
  c.ok(await page.locator('table.snapshots tbody tr').count() === 1, 'the list shows the one snapshot taken');
  c.ok((await page.textContent('table.snapshots')).includes('axfr'), 'taken by zone transfer');
  c.ok(await page.inputValue('select[name=b]') === 'now', 'with one snapshot, the diff is with now');
  for (const v of await axe(page)) c.ok(false, `axe on /snapshots: ${v}`);

  await page.fill('input[name=server]', after);
  await page.click('button:has-text("Compare")');
  await page.waitForSelector('.snapshot-diff', { timeout: 30000 });
  const ops = await page.$$eval('.diff-set', (xs) => xs.map((x) => `${x.getAttribute('data-op')} ${x.querySelector('strong').textContent}`));
  c.ok(ops.length === 2 && ops.includes('added api.api.test. A') && ops.includes('changed www.api.test. A'), `diff with now: ${ops}`);
  const www = await page.textContent('.diff-changed');
  c.ok(www.includes('- www.api.test.') && www.includes('192.0.2.1') && www.includes('+ www.api.test.') && www.includes('192.0.2.2'), `www's old and new address: ${www}`);
  const colour = await page.$eval('.diff-rec.diff-added', (x) => getComputedStyle(x).color);
  const red = await page.$eval('.diff-rec.diff-removed', (x) => getComputedStyle(x).color);
  c.ok(colour !== red, `added and removed records have their own colours: ${colour} ${red}`);
  c.ok((await page.textContent('.verdict')).includes('1 added, 0 removed, 1 changed'), 'the verdict counts the changes');
  await shot(page, 'snapshots-diff-1440');

  // The list survives a reload (?domain=), the client's cookie says whose.
  await page.goto(base + '/snapshots?domain=api.test');
  await ready(page);
  await page.waitForSelector('table.snapshots tbody tr');
  c.ok(await page.locator('table.snapshots tbody tr').count() === 1, 'reopened with ?domain=, the list shows the snapshot');
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'snapshots-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('snapshots');
