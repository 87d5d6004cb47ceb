// Browser test of the tool pages: node pages.mjs BASE
// The server answers DNS from loopback test servers (example.test) and
// lists three loopback resolvers, one of which answers differently.
import { checker, open, ready, shot, viewports } from './lib.mjs';

const [base, httpAddr, tlsAddr] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;

async function visit(path, name) {
  await page.goto(base + path);
  await ready(page);
  c.ok(await page.locator('h1').isVisible(), `${path}: has a heading`);
  if (name) await shot(page, `${name}-desktop`);
}

try {
  // First-load budget: compressed JS + CSS of /visualtrace under 300 KB (map data excluded).
  await page.goto(`${base}/visualtrace`);
  await ready(page);
  const bytes = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /\.(js|css)(\?|$)/.test(e.name)).reduce((n, e) => n + e.encodedBodySize, 0));
  console.log(`first load of /visualtrace: ${bytes} bytes of compressed JS and CSS`);
  c.ok(bytes > 0 && bytes < 300 * 1024, `first load ${bytes} bytes of JS+CSS, want under 300 KB`);

  // Hub: every tool linked.
  await visit('/', 'hub');
  const cards = await page.locator('.cards a.card').count();
  c.ok(cards === 9, `hub lists ${cards} tools, want 9`);

  // DNS lookup against the loopback upstream.
  await visit('/dns');
  await page.fill('input[name=target]', 'example.test');
  await page.selectOption('select[name=type]', 'MX');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-rcode]');
  c.ok(await page.getAttribute('[data-rcode]', 'data-rcode') === 'NOERROR', 'dns: NOERROR shown');
  const answer = await page.textContent('table.records tbody');
  c.ok(answer.includes('mail.example.test.'), `dns: MX answer shown, got ${answer}`);
  c.ok(/\/dns\?m=/.test(await page.getAttribute('.permalink', 'href')), 'dns: permalink set');
  await shot(page, 'dns-desktop');
  // Keyboard: the form is usable without a mouse.
  await page.fill('input[name=target]', 'www.example.test');
  await page.selectOption('select[name=type]', 'A');
  await page.focus('input[name=target]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('table.records tbody')?.textContent.includes('192.0.2.10'));

  // Propagation: three resolvers, two answer groups, coloured on the map.
  await visit('/propagation');
  await page.fill('input[name=target]', 'example.test');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-verdict]');
  const rows = await page.$$eval('table.answers tbody tr[data-group]', (trs) => trs.map((tr) => tr.dataset.group));
  c.ok(rows.length === 3, `propagation: ${rows.length} resolver rows, want 3`);
  c.ok(new Set(rows).size === 2, `propagation: groups ${rows}, want 2 distinct`);
  const markers = await page.$$eval('path.resolver-marker', (ps) => ps.map((p) => p.getAttribute('fill')));
  c.ok(markers.length === 3 && new Set(markers).size === 2, `propagation: marker colours ${markers}, want 3 markers in 2 colours`);
  c.ok((await page.getAttribute('[data-verdict]', 'data-verdict')) !== 'consistent', 'propagation: inconsistent verdict');
  await shot(page, 'propagation-desktop');

  // Scan and compare (GET endpoints).
  await visit('/scan');
  await page.fill('input[name=target]', 'example.test');
  await page.click('button[type=submit]');
  await page.waitForSelector('table.records');
  await shot(page, 'scan-desktop');

  // Probes against the lab site on 127.0.0.2 (allowed by the server's policy).
  await visit('/http');
  await page.fill('input[name=target]', `http://${httpAddr}/`);
  await page.click('button[type=submit]');
  await page.waitForSelector('.waterfall');
  const phases = await page.$$eval('.waterfall .wf-name', (els) => els.map((e) => e.textContent));
  c.ok(phases.includes('Connect') && phases.includes('Total'), `http: waterfall phases ${phases}`);
  c.ok((await page.textContent('.facts')).includes('200'), 'http: status 200 shown');
  await shot(page, 'http-desktop');

  await visit('/ws');
  await page.fill('input[name=target]', `ws://${httpAddr}/ws`);
  await page.fill('input[name=send]', 'ping');
  await page.fill('input[name=expect]', 'echo: ping');
  await page.click('button[type=submit]');
  await page.waitForSelector('.waterfall');
  c.ok((await page.textContent('.facts')).includes('echo: ping'), 'ws: the echo is shown');
  await shot(page, 'ws-desktop');

  await visit('/cert');
  await page.fill('input[name=target]', tlsAddr);
  await page.fill('input[name=sni]', 'example.com');
  await page.click('button[type=submit]');
  await page.waitForSelector('.result table');
  c.ok((await page.textContent('.facts')).toLowerCase().includes('unknown authority') || (await page.locator('.facts .badge.fail').count()) > 0, 'cert: the untrusted chain is flagged');
  await shot(page, 'cert-desktop');

  await visit('/diagnose');
  await page.fill('input[name=target]', `http://${httpAddr}/`);
  await page.click('button[type=submit]');
  await page.waitForSelector('.verdict');
  const layers = await page.$$eval('table.layers tbody tr[data-layer]', (trs) => trs.map((tr) => tr.dataset.layer));
  c.ok(layers.includes('tcp') && layers.includes('http'), `diagnose: layers ${layers}`);
  const verdictFirst = await page.evaluate(() => {
    const v = document.querySelector('.verdict'), tb = document.querySelector('.result table.layers');
    return !!(v && tb && (v.compareDocumentPosition(tb) & Node.DOCUMENT_POSITION_FOLLOWING));
  });
  c.ok(verdictFirst, 'diagnose: the verdict comes before the layers');
  await shot(page, 'diagnose-desktop');

  await visit('/compare');
  await page.fill('input[name=domain1]', 'example.test');
  await page.fill('input[name=domain2]', 'www.example.test');
  await page.click('button[type=submit]');
  await page.waitForSelector('.result table');
  c.ok(await page.locator('tr.differs').count() > 0, 'compare: differences marked');
  await shot(page, 'compare-desktop');

  // A policy refusal: loopback targets are refused (403) and said so.
  await visit('/visualtrace');
  await page.fill('input[name=target]', '127.0.0.1');
  await page.click('button[type=submit]');
  await page.waitForSelector('.errors .alert[data-status]');
  c.ok(await page.getAttribute('.errors .alert', 'data-status') === '403', 'trace of 127.0.0.1: 403 shown');
  c.ok((await page.textContent('.errors .alert')).includes('target policy'), 'the 403 says it is the target policy');
  // Rate limit: traces are 10 a minute; use up the quota, then the page shows 429 and the wait.
  await page.evaluate(async () => {
    for (let i = 0; i < 12; i++) {
      await fetch('/api/v1/measurements', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'trace', target: '127.0.0.1' }) });
    }
  });
  await page.click('button[type=submit]');
  await page.waitForSelector('.errors .alert[data-status="429"]');
  const msg = await page.textContent('.errors .alert');
  c.ok(/Try again in \d+ s/.test(msg), `429 message ${msg} says how long to wait`);
  await shot(page, 'ratelimit-desktop');
  // Validation error from the API, field by field.
  await page.click('details.options summary');
  await page.fill('input[name=max_hops]', '99');
  await page.fill('input[name=target]', '10.9.9.9');
  await page.evaluate(() => new Promise((r) => setTimeout(r, 10)));

  // Phone width: no horizontal overflow on the main pages.
  await page.setViewportSize(viewports.phone);
  for (const [path, name] of [['/tools', 'hub'], ['/visualtrace', 'visualtrace-empty'], ['/dns', 'dns'], ['/propagation', 'propagation'], ['/diagnose', 'diagnose'], ['/http', 'http']]) {
    await visit(path);
    if (path === '/http' || path === '/diagnose') {
      await page.fill('input[name=target]', `http://${httpAddr}/`);
      await page.click('button[type=submit]');
      await page.waitForSelector(path === '/http' ? '.waterfall' : '.verdict');
    }
    if (path === '/propagation') {
      await page.fill('input[name=target]', 'example.test');
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-verdict]');
    }
    await page.waitForTimeout(200);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    c.ok(over <= 0, `${path} at 375 px: ${over}px horizontal overflow`);
    await shot(page, `${name}-phone`);
  }
  // API docs work offline.
  await page.setViewportSize(viewports.desktop);
  await page.goto(`${base}/api/docs`);
  await page.waitForSelector('.opblock', { timeout: 30000 });
  c.ok(await page.locator('.opblock').count() > 10, 'api docs list the operations');
  await shot(page, 'apidocs-desktop');

  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
  const errs = b.consoleErrors.filter((e) => !/status of (403|429|400)/.test(e));
  c.ok(errs.length === 0, `console errors: ${errs.join(' | ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'pages-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('pages');
