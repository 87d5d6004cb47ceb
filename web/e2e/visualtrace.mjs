// Browser test of the visual traceroute: node visualtrace.mjs BASE TARGET EXPECT
// EXPECT is JSON: [{ttl, addr, located}] in order, as the topology gives.
import { checker, open, ready, shot, viewports } from './lib.mjs';

const [base, target, expectJSON] = process.argv.slice(2);
const expect = JSON.parse(expectJSON);
const c = checker();
const b = await open(base);
const { page } = b;
try {
  await page.goto(`${base}/visualtrace`);
  await ready(page);
  await page.waitForSelector('.leaflet-container path.leaflet-interactive, .leaflet-overlay-pane svg path');
  // Validation first: a URL is refused in the page.
  await page.fill('input[name=target]', 'http://x/y');
  await page.click('button[type=submit]');
  c.ok(await page.locator('.errors .alert').isVisible(), 'a bad target shows an error');
  await page.fill('input[name=target]', target);
  await page.click('details.options summary');
  await page.fill('input[name=timeout_ms]', '500');
  // Trace from every online location: one trace, one colour each. A
  // configured location with no agent is offered as offline, not run here.
  c.ok(await page.locator('.locations input[type=checkbox]:disabled').count() === 1, 'the location without an agent is offered as offline');
  for (const box of await page.locator('.locations input[type=checkbox]:not(:disabled)').all()) await box.check();
  const nlocs = await page.locator('.locations input:checked').count();
  c.ok(nlocs === 1, `${nlocs} locations online, want 1 (this server)`);
  await page.click('button[type=submit]');
  await page.waitForFunction((n) => document.querySelectorAll('.trace-card .trace-head .badge.ok, .trace-card .trace-head .badge.fail').length === n, nlocs, { timeout: 60000 });
  const cards = await page.locator('.trace-card').all();
  c.ok(cards.length === nlocs, `${cards.length} trace cards, want ${nlocs}`);
  for (const [ci, card] of cards.entries()) {
    const status = await card.locator('.trace-head .badge').textContent();
    c.ok(status === 'finished', `trace ${ci} status ${status}, want finished`);
    const rows = await card.locator('table.hops tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      ttl: Number(tr.dataset.ttl), addr: tr.children[1].textContent.trim(), located: tr.classList.contains('located'), place: tr.children[4].textContent.trim(),
    })));
    c.ok(rows.length === expect.length, `trace ${ci}: table has ${rows.length} rows, want ${expect.length}: ${JSON.stringify(rows)}`);
    expect.forEach((e, i) => {
      const r = rows[i] ?? {};
      c.ok(r.ttl === e.ttl, `trace ${ci} row ${i}: ttl ${r.ttl}, want ${e.ttl}`);
      c.ok(r.addr === (e.addr || '*'), `trace ${ci} row ${i}: address ${r.addr}, want ${e.addr || '*'}`);
      c.ok(r.located === e.located, `trace ${ci} row ${i}: located ${r.located}, want ${e.located}`);
      if (e.city) c.ok(r.place.includes(e.city), `trace ${ci} row ${i}: place ${r.place}, want ${e.city}`);
    });
    const unlocated = await card.locator('.unlocated li[data-ttl]').evaluateAll((lis) => lis.map((li) => Number(li.dataset.ttl)));
    const wantUnlocated = expect.filter((e) => !e.located).map((e) => e.ttl);
    c.ok(JSON.stringify(unlocated) === JSON.stringify(wantUnlocated), `trace ${ci}: unlocated list ${unlocated}, want ${wantUnlocated}`);
  }
  // Markers: one per distinct located place per trace, in TTL order, in the trace's colour; lines between them.
  const places = [...new Set(expect.filter((e) => e.located).map((e) => e.city))];
  const markers = await page.$$eval('path.hop-marker', (ps) => ps.map((p) => ({ ttls: [...p.classList].find((x) => x.startsWith('ttl-')), fill: p.getAttribute('fill') })));
  c.ok(markers.length === places.length * nlocs, `${markers.length} hop markers, want ${places.length * nlocs} (one per place per trace): ${JSON.stringify(markers)}`);
  const firstTTLs = [...new Set(markers.map((m) => Number(m.ttls.split('-')[1])))].sort((a, b) => a - b);
  const wantFirst = places.map((p) => expect.find((e) => e.city === p).ttl);
  c.ok(JSON.stringify(firstTTLs) === JSON.stringify(wantFirst), `markers start at hops ${firstTTLs}, want ${wantFirst}`);
  c.ok(new Set(markers.map((m) => m.fill)).size === nlocs, `marker colours ${markers.map((m) => m.fill)}, want one per trace`);
  const lines = await page.locator('path.hop-line').count();
  c.ok(lines === places.length * nlocs, `${lines} path lines, want ${places.length * nlocs} (source → each place in turn, per trace)`);
  c.ok(await page.locator('.source-marker').count() === nlocs, 'each source location is marked');
  // A row highlights its marker and back.
  const locatedRow = page.locator('table.hops tbody tr.located').first();
  const ttl = await locatedRow.getAttribute('data-ttl');
  await locatedRow.focus();
  const widths = await page.$$eval('path.hop-marker', (ps) => ps.map((p) => `${p.getAttribute('class')}=${p.getAttribute('stroke-width')}`));
  const lit = widths.filter((w) => w.endsWith('=3'));
  c.ok(lit.length === 1 && new RegExp(`ttl-(\\d+-)*${ttl}(-|\\s|$)`).test(lit[0]), `focused row ${ttl}: markers ${widths}, want exactly its marker highlighted (stroke 3)`);
  await locatedRow.blur();
  await page.locator('#map').scrollIntoViewIfNeeded();
  await page.locator('path.hop-marker').first().hover({ force: true });
  c.ok(await page.locator('table.hops tbody tr.hl').count() >= 1, 'hovering a marker highlights its rows');
  await page.mouse.move(0, 700);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'visualtrace-desktop');
  await shot(page, 'visualtrace-desktop-full', true);
  // Permalink: a fresh load of ?m=ID shows the stored trace.
  const link = await page.getAttribute('.permalink', 'href');
  c.ok(/^\/visualtrace\?m=/.test(link ?? ''), `permalink ${link}`);
  await page.goto(base + link);
  await ready(page);
  await page.waitForFunction((n) => document.querySelectorAll('.trace-card .trace-head .badge.ok').length === n, nlocs);
  c.ok(await page.locator('table.hops tbody tr').count() === expect.length * nlocs, 'the permalink shows every hop of every trace');
  console.log('desktop view', await page.getAttribute('#map', 'data-view'));
  await page.setViewportSize(viewports.phone);
  await page.waitForTimeout(600);
  console.log('phone view', await page.getAttribute('#map', 'data-view'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  c.ok(overflow <= 0, `phone width: page is ${overflow}px wider than the screen`);
  await shot(page, 'visualtrace-phone');
  await shot(page, 'visualtrace-phone-full', true);
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
  c.ok(b.consoleErrors.length === 0, `console errors: ${b.consoleErrors.join(' | ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'visualtrace-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('visualtrace');
