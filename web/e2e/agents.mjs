// Browser test of traces from two agents: node agents.mjs BASE TARGET EXPECT
// EXPECT is JSON {locations: [{id, via}]}: two agent locations (each a real
// agent process in its own network namespace, at its own configured place)
// and the router address each one's path must cross. The page traces the
// target from both and must draw two sources, each with its own colour and
// its own path.
import { checker, open, ready, shot } from './lib.mjs';

const [base, target, expectJSON] = process.argv.slice(2);
const want = JSON.parse(expectJSON);
const ids = want.locations.map((l) => l.id);
const c = checker();
const b = await open(base);
const { page } = b;
try {
  await page.goto(`${base}/visualtrace`);
  await ready(page);
  await page.waitForSelector('.leaflet-container canvas');
  for (const id of ids) await page.waitForSelector(`.locations input[name=location][value="${id}"]:not(:disabled)`);
  for (const box of await page.locator('.locations input[name=location]').all()) {
    const id = await box.getAttribute('value');
    if (ids.includes(id)) await box.check(); else if (!(await box.isDisabled())) await box.uncheck();
  }
  c.ok(await page.locator('.locations input[name=location]:checked').count() === 2, 'the two agents are chosen');
  await page.fill('input[name=target]', target);
  await page.click('details.options summary');
  await page.fill('input[name=timeout_ms]', '500');
  await page.fill('input[name=max_hops]', '6');
  // No reverse names: the agents' resolver is the machine's, never asked about lab addresses.
  await page.check('input[name=no_dns]');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('.trace-card .trace-head .badge.ok, .trace-card .trace-head .badge.fail').length === 2, null, { timeout: 60000 });
  const cards = await page.locator('.trace-card').all();
  c.ok(cards.length === 2, `${cards.length} trace cards, want 2`);
  for (const [i, card] of cards.entries()) {
    const status = await card.locator('.trace-head .badge').textContent();
    const from = await card.locator('.trace-head h2 .muted').textContent();
    const addrs = await card.locator('table.hops tbody tr:not(.waiting) .addr').allTextContents();
    const loc = want.locations.find((l) => from.includes(l.name));
    c.ok(status === 'finished', `trace ${i} (${from}) status ${status}, want finished`);
    c.ok(!!loc && addrs.map((a) => a.trim()).includes(loc.via), `trace ${i} (${from}) crossed ${addrs.join(' ')}, want its own router ${loc?.via}`);
  }
  const sources = await page.$$eval('.source-marker', (els) => els.map((e) => ({ name: e.querySelector('em').textContent, colour: e.querySelector('span').style.background })));
  c.ok(sources.length === 2, `${sources.length} source markers, want 2: ${JSON.stringify(sources)}`);
  c.ok(new Set(sources.map((s) => s.colour)).size === 2, `source markers in two colours: ${JSON.stringify(sources)}`);
  for (const l of want.locations) c.ok(sources.some((s) => s.name === l.name), `a source marker for ${l.name}: ${JSON.stringify(sources)}`);
  const lines = await page.$$eval('path.hop-line', (ps) => ps.map((p) => p.getAttribute('stroke')));
  const colours = new Set(lines);
  c.ok(colours.size === 2 && sources.every((s) => lines.length > 0), `path lines in the two sources' colours: ${JSON.stringify(lines)}`);
  await shot(page, 'visualtrace-two-agents');
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
  c.ok(b.consoleErrors.length === 0, `console errors: ${b.consoleErrors.join(' | ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'visualtrace-two-agents-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('agents');
