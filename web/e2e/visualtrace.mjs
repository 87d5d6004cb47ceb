// Browser test of the visual traceroute: node visualtrace.mjs BASE TARGET EXPECT
// EXPECT is JSON {hops: [{ttl, addr, located, city}], pacific: [fromTTL, toTTL],
// silent: [fromTTL, toTTL]}: the hops in order as the topology gives them,
// the step that crosses the Pacific (and the antimeridian) and the step
// across the silent hop. The server offers two locations.
import { axe, checker, inside, open, ready, shot, viewports } from './lib.mjs';

const [base, target, expectJSON] = process.argv.slice(2);
const want = JSON.parse(expectJSON);
const hops = want.hops;
const c = checker();
const b = await open(base);
const { page } = b;
const finished = (n) => page.waitForFunction((k) => document.querySelectorAll('.trace-card .trace-head .badge.ok, .trace-card .trace-head .badge.fail').length === k, n, { timeout: 60000 });
const box = (sel) => page.locator(sel).first().boundingBox();
try {
  await page.goto(`${base}/visualtrace`);
  await ready(page);
  await page.waitForSelector('.leaflet-container canvas');
  c.ok((await page.title()).startsWith('Visual traceroute'), `title ${await page.title()}`);
  // Validation first: a URL is refused in the page.
  await page.fill('input[name=target]', 'http://x/y');
  await page.click('button[type=submit]');
  c.ok(await page.locator('.errors .alert').isVisible(), 'a bad target shows an error');
  await page.fill('input[name=target]', target);
  await page.click('details.options summary');
  // A probe timeout long enough that the live stream is joined while the silent hop is still awaited.
  await page.fill('input[name=timeout_ms]', '1500');
  await page.selectOption('select[name=protocol]', 'udp');
  // Two locations configured: the first runs here, the other has no agent
  // and is shown offline.
  c.ok(await page.locator('.locations input[type=checkbox]').count() === 2, 'both locations listed');
  c.ok(await page.locator('.locations input[type=checkbox]:disabled').count() === 1, 'the location without an agent is offered as offline');
  const nlocs = await page.locator('.locations input:checked').count();
  c.ok(nlocs === 1, `${nlocs} locations checked, want the online one`);
  // Count marker elements added to the map: markers are updated in place.
  await page.evaluate(() => {
    window.markerAdds = 0;
    new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => { if (n.classList?.contains('hop-marker')) window.markerAdds++; })))
      .observe(document.querySelector('.leaflet-marker-pane'), { childList: true });
  });
  // While it runs, the next hop is shown waiting, with the elapsed time:
  // watched as the page changes, since the lab trace is quick.
  await page.evaluate(() => {
    window.sawWaiting = [];
    new MutationObserver(() => {
      const w = document.querySelector('.trace-card tr.waiting:not([hidden])');
      const rows = [...document.querySelectorAll('.trace-card tbody tr:not(.waiting)')].map((r) => r.dataset.ttl).join(',');
      if (w) window.sawWaiting.push(`${w.dataset.ttl}|${document.querySelector('.trace-card .elapsed')?.textContent}|${rows}`);
    }).observe(document.querySelector('.traces'), { childList: true, subtree: true, characterData: true });
  });
  await page.click('button[type=submit]');
  await finished(nlocs);
  const waits = await page.evaluate(() => window.sawWaiting);
  c.ok(waits.some((w) => /^\d+\|\d+\.\d s/.test(w)), `a waiting hop with the elapsed time was shown while running: ${waits.slice(0, 5)}`);
  c.ok(waits.every((w) => { const [ttl, , rows] = w.split('|'); return !rows.split(',').includes(ttl); }), 'the waiting hop is never one that answered');
  const cards = await page.locator('.trace-card').all();
  c.ok(cards.length === nlocs, `${cards.length} trace cards, want ${nlocs}`);
  const lastAnswer = [...hops].reverse().find((e) => e.addr).ttl;
  for (const [ci, card] of cards.entries()) {
    const status = await card.locator('.trace-head .badge').textContent();
    c.ok(status === 'finished', `trace ${ci} status ${status}, want finished`);
    const rows = await card.locator('table.hops tbody tr:not(.waiting)').evaluateAll((trs) => trs.map((tr) => ({
      ttl: Number(tr.dataset.ttl), addr: tr.querySelector('.addr')?.textContent.trim() ?? '*', cls: tr.className, place: tr.querySelector('td.c-place').textContent.trim(),
    })));
    c.ok(rows.length === hops.length, `trace ${ci}: table has ${rows.length} rows, want ${hops.length}: ${JSON.stringify(rows)}`);
    hops.forEach((e, i) => {
      const r = rows[i] ?? {};
      c.ok(r.ttl === e.ttl, `trace ${ci} row ${i}: ttl ${r.ttl}, want ${e.ttl}`);
      c.ok(r.addr === (e.addr || '*'), `trace ${ci} row ${i}: address ${r.addr}, want ${e.addr || '*'}`);
      c.ok(r.cls?.split(' ').includes(e.located ? 'located' : 'unlocated'), `trace ${ci} row ${i}: class ${r.cls}, want ${e.located ? 'located' : 'unlocated'}`);
      if (!e.addr) c.ok(r.cls?.includes('silent') && /no answer/.test(r.place), `trace ${ci} row ${i}: silent hop shown as ${r.cls} "${r.place}"`);
      if (e.city) c.ok(r.place.includes(e.city), `trace ${ci} row ${i}: place ${r.place}, want ${e.city}`);
    });
    c.ok(await card.locator('tr.waiting').isHidden(), `trace ${ci}: no waiting row once finished`);
    const verdict = (await card.locator('.trace-verdict').textContent()).trim();
    const reached = hops[hops.length - 1].reached;
    c.ok(reached ? new RegExp(`^Reached in ${hops.length} hops, [\\d.]+ ms$`).test(verdict) : verdict === `Not reached: last answer at hop ${lastAnswer}`,
      `trace ${ci} verdict "${verdict}"`);
  }
  // Markers: one per place per trace, numbered with the hops seen there, in order.
  const places = [...new Set(hops.filter((e) => e.located).map((e) => e.city))];
  const markers = await page.$$eval('.hop-marker', (els) => els.map((e) => ({ ttls: e.dataset.ttls, num: e.querySelector('b').textContent, label: e.querySelector('em').textContent })));
  c.ok(markers.length === places.length * nlocs, `${markers.length} hop markers, want ${places.length * nlocs}: ${JSON.stringify(markers)}`);
  const wantTTLs = places.map((p) => hops.filter((e) => e.city === p).map((e) => e.ttl).join(','));
  c.ok(JSON.stringify(markers.slice(0, places.length).map((m) => m.ttls)) === JSON.stringify(wantTTLs), `marker hops ${markers.map((m) => m.ttls)}, want ${wantTTLs}`);
  c.ok(markers.every((m) => m.num === m.ttls.replace(/,/g, '·')), `every marker shows its hop numbers: ${markers.map((m) => m.num)}`);
  c.ok(markers.every((m, i) => m.label.startsWith(places[i % places.length])), `markers labelled with their city: ${markers.map((m) => m.label)}`);
  const adds = await page.evaluate(() => window.markerAdds);
  c.ok(adds === markers.length, `${adds} marker elements inserted for ${markers.length} markers: markers must be updated in place`);
  c.ok(await page.locator('.source-marker').count() === nlocs, 'each source location is marked');
  // Lines: source → each place in turn; the step across the silent hop is dashed.
  const steps = await page.$$eval('path.hop-line', (ps) => ps.map((p) => ({ step: p.dataset.step, cls: p.getAttribute('class'), dash: p.getAttribute('stroke-dasharray') })));
  c.ok(steps.length === places.length * nlocs, `${steps.length} path lines, want ${places.length * nlocs}: ${JSON.stringify(steps)}`);
  const keyOf = async (ttl) => page.$eval(`.hop-marker[data-ttls^="${ttl}"]`, (e) => e.dataset.key);
  const silentStep = `${await keyOf(want.silent[0])}>${await keyOf(want.silent[1])}`;
  const dashed = steps.filter((s) => s.step === silentStep);
  c.ok(dashed.length === nlocs && dashed.every((s) => s.cls.includes('dashed') && s.dash), `the step across the silent hop (${silentStep}) is dashed: ${JSON.stringify(dashed)}`);
  c.ok(steps.filter((s) => s.step !== silentStep).every((s) => !s.cls.includes('dashed') || s.cls.includes('doubtful')), `only gaps are dashed: ${JSON.stringify(steps)}`);
  // The Pacific step stays inside the map and ends at its marker (one world copy).
  const pacific = `${await keyOf(want.pacific[0])}>${await keyOf(want.pacific[1])}`;
  const mapBox = await box('#map');
  const line = await page.locator(`path.hop-line[data-step="${pacific}"]`).first().boundingBox();
  c.ok(inside(line, mapBox), `the Pacific line ${JSON.stringify(line)} lies inside the map ${JSON.stringify(mapBox)}`);
  const ends = await page.evaluate((step) => {
    const p = document.querySelector(`path.hop-line[data-step="${step}"]`);
    const len = p.getTotalLength(), a = p.getPointAtLength(0), z = p.getPointAtLength(len);
    const m = p.getScreenCTM();
    const pt = (q) => ({ x: m.a * q.x + m.c * q.y + m.e, y: m.b * q.x + m.d * q.y + m.f });
    return [pt(a), pt(z)];
  }, pacific);
  for (const [i, ttl] of want.pacific.entries()) {
    const mb = await page.locator(`.hop-marker[data-ttls^="${ttl}"]`).first().boundingBox();
    const centre = { x: mb.x + mb.width / 2, y: mb.y + mb.height / 2 };
    const d = Math.hypot(centre.x - ends[i].x, centre.y - ends[i].y);
    c.ok(d < 24, `the Pacific line ${i ? 'ends' : 'starts'} ${d.toFixed(0)} px from hop ${ttl}'s marker, want under 24`);
    c.ok(inside(mb, mapBox), `hop ${ttl}'s marker is inside the map`);
  }
  // AS legend and path strip.
  const wantAS = [...new Set(hops.filter((e) => e.asn).map((e) => e.asn))];
  const strip1 = await page.$$eval('.as-path .as-chip', (xs) => xs.map((x) => Number(x.dataset.asn)));
  c.ok(JSON.stringify(strip1) === JSON.stringify(wantAS), `AS path strip ${JSON.stringify(strip1)}, want ${JSON.stringify(wantAS)}`);
  c.ok(await page.locator('.as-legend .as-key').count() === wantAS.length, 'every network is in the legend');
  // A row highlights its marker.
  const row = page.locator('.trace-card').first().locator('table.hops tbody tr.located').first();
  const rowTTL = await row.getAttribute('data-ttl');
  await row.focus();
  const lit = await page.$$eval('.hop-marker.hl', (els) => els.map((e) => e.dataset.ttls));
  c.ok(lit.length === 1 && lit[0].split(',').includes(rowTTL), `focused row ${rowTTL}: highlighted markers ${lit}`);
  const focusStyle = await row.evaluate((tr) => getComputedStyle(tr.children[1]).boxShadow);
  c.ok(/rgb\(29, 78, 216\)/.test(focusStyle), `a focused hop row shows a visible focus ring: ${focusStyle}`);
  await row.blur();
  // A second trace of the same target (made through the API) shown with the
  // first by one link: the page holds several traces, each with a toggle.
  const first = new URL(base + await page.getAttribute('.permalink', 'href')).searchParams.get('m');
  const second = await page.evaluate(async ([t]) => {
    const r = await fetch('/api/v1/measurements', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'trace', target: t, options: { protocol: 'udp', timeout_ms: 400 } }) });
    return (await r.json()).id;
  }, [target]);
  await page.goto(`${base}/visualtrace?m=${first},${second}`);
  await ready(page);
  await finished(2);
  const ntraces = 2;
  c.ok(await page.locator('.hop-marker').count() === places.length * ntraces, 'two traces: every place marked for each');
  const colours = await page.$$eval('.trace-card', (cs) => cs.map((x) => x.style.getPropertyValue('--trace')));
  c.ok(new Set(colours).size === 2, `two traces from one location get two colours: ${colours}`);
  // Two traces on the same path are drawn side by side.
  const ds = await page.$$eval(`path.hop-line[data-step="${pacific}"]`, (ps) => ps.map((p) => p.getAttribute('d')));
  c.ok(ds.length === 2 && ds[0] !== ds[1], 'overlapping traces are offset from each other');
  const strip = await page.$$eval('.as-path', (ps) => ps.map((p) => [...p.querySelectorAll('.as-chip')].map((x) => Number(x.dataset.asn))));
  c.ok(strip.length === ntraces && strip.every((s) => JSON.stringify(s) === JSON.stringify(wantAS)), `AS path strip ${JSON.stringify(strip)}, want ${JSON.stringify(wantAS)} per trace`);
  await shot(page, 'visualtrace-1440');
  await shot(page, 'visualtrace-1440-full', true);
  // Per-trace toggles.
  await page.click(`.trace-chip[data-measurement="${second}"]`);
  c.ok(await page.locator('.hop-marker').count() === places.length, 'hiding a trace removes its markers');
  c.ok(await page.getAttribute(`.trace-chip[data-measurement="${second}"]`, 'aria-pressed') === 'false', 'the toggle says the trace is hidden');
  const solo = await page.$$eval(`path.hop-line[data-step="${pacific}"]`, (ps) => ps.map((p) => p.getAttribute('d')));
  c.ok(solo.length === 1, 'one line left on the Pacific step');
  await page.click(`.trace-chip[data-measurement="${second}"]`);
  c.ok(await page.locator('.hop-marker').count() === places.length * ntraces, 'showing it again restores its markers');
  // The view is the user's once they moved it.
  await page.click('.leaflet-control-zoom-in');
  await page.waitForFunction(() => !document.querySelector('.leaflet-zoom-anim'));
  await page.waitForTimeout(400);
  const userView = await page.getAttribute('#map', 'data-view');
  const fits = await page.getAttribute('#map', 'data-fits');
  await page.setViewportSize({ width: 1300, height: 900 });
  await page.click(`.trace-chip[data-measurement="${second}"]`);
  await page.click(`.trace-chip[data-measurement="${second}"]`);
  await page.waitForTimeout(300);
  const after = await page.getAttribute('#map', 'data-view');
  c.ok(after.split(' ')[0] === userView.split(' ')[0] && await page.getAttribute('#map', 'data-fits') === fits, `zoom ${userView} kept after the user zoomed (now ${after})`);
  c.ok(await page.locator('.fit-btn').isVisible(), 'a "Fit the route" button appears once the user moved the map');
  await page.setViewportSize(viewports.desktop);
  const violations = await axe(page);
  c.ok(violations.length === 0, `axe-core on /visualtrace:\n   ${violations.join('\n   ')}`);
  // Permalink: a fresh load restores the form and every trace.
  const link = await page.getAttribute('.permalink', 'href');
  c.ok(link === `/visualtrace?m=${first},${second}`, `permalink ${link}`);
  await page.goto(base + link);
  await ready(page);
  await finished(ntraces);
  c.ok(await page.inputValue('input[name=target]') === target, 'permalink restores the target');
  c.ok(await page.inputValue('input[name=timeout_ms]') === '1500', 'permalink restores the timeout');
  c.ok(await page.inputValue('select[name=protocol]') === 'udp', 'permalink restores the protocol');
  c.ok(await page.locator('.locations input:checked').count() === 1 && await page.isChecked('.locations input[value=sin]'), 'permalink restores the location');
  c.ok(await page.locator('table.hops tbody tr:not(.waiting)').count() === hops.length * ntraces, 'the permalink shows every hop of every trace');
  // mtr mode: rounds of one probe per hop, statistics updated live.
  await page.click('details.options summary');
  await page.check('input[name=mtr]');
  await page.fill('input[name=rounds]', '3');
  await page.click('button[type=submit]');
  await finished(1);
  const sent = await page.$$eval('.trace-card tbody tr.answered td.c-sent, .trace-card tbody tr.located td.c-sent', (tds) => tds.map((td) => td.textContent));
  c.ok(sent.length > 0 && sent.every((x) => x === '3'), `mtr: every answering hop sent 3 probes: ${sent}`);
  c.ok(/round 3 of 3/.test(await page.textContent('.trace-card .elapsed')), `mtr: rounds shown (${await page.textContent('.trace-card .elapsed')})`);
  const mtrLink = await page.getAttribute('.permalink', 'href');
  await page.goto(base + mtrLink);
  await ready(page);
  await finished(1);
  c.ok(await page.isChecked('input[name=mtr]') && await page.inputValue('input[name=rounds]') === '3', 'mtr permalink restores the rounds');
  // Phone: the map is full width and every marker is inside it; key columns fit.
  await page.setViewportSize(viewports.phone);
  await page.goto(base + link);
  await ready(page);
  await finished(ntraces);
  await page.waitForTimeout(300);
  const phoneMap = await box('#map');
  c.ok(phoneMap.width >= viewports.phone.width - 2 && phoneMap.height >= 340, `phone map ${phoneMap.width}×${phoneMap.height}, want full width and at least 340 px tall`);
  const out = [];
  for (const m of await page.locator('.hop-marker, .source-marker').all()) { const mb = await m.boundingBox(); if (!inside(mb, phoneMap)) out.push(mb); }
  c.ok(out.length === 0, `phone: ${out.length} markers outside the map: ${JSON.stringify(out)}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  c.ok(overflow <= 0, `phone width: page is ${overflow}px wider than the screen`);
  for (const col of ['c-ttl', 'c-host', 'c-loss', 'c-avg']) {
    const cb = await box(`table.hops th.${col}`);
    c.ok(cb && cb.x >= 0 && cb.x + cb.width <= viewports.phone.width, `phone: column ${col} visible without scrolling (${JSON.stringify(cb)})`);
  }
  const credits = await page.locator('.leaflet-control-attribution').isVisible();
  c.ok(!credits && await page.locator('.credits-btn').isVisible(), 'phone: credits folded behind the (i) button');
  await shot(page, 'visualtrace-390');
  await shot(page, 'visualtrace-390-full', true);
  const phoneViolations = await axe(page);
  c.ok(phoneViolations.length === 0, `axe-core on /visualtrace at 390 px:\n   ${phoneViolations.join('\n   ')}`);
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
  c.ok(b.consoleErrors.length === 0, `console errors: ${b.consoleErrors.join(' | ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'visualtrace-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('visualtrace');
