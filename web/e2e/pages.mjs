// Browser test of the tool pages: node pages.mjs BASE HTTP TLS
// The server answers DNS from loopback test servers (example.test: REFUSED
// outside it) and lists three loopback resolvers, one of which answers
// differently. HTTP and TLS are lab sites on 127.0.0.2 (/502 answers 502).
import { axe, checker, open, ready, shot, viewports } from './lib.mjs';

const [base, httpAddr, tlsAddr] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;
const violations = [];

async function visit(path) {
  const resp = await page.goto(base + path);
  await ready(page);
  c.ok(await page.locator('h1').isVisible(), `${path}: has a heading`);
  return resp;
}
async function submit(sel = '.verdict') {
  await page.click('button[type=submit]');
  await page.waitForSelector(sel, { timeout: 60000 });
}
const verdict = async () => ({ kind: await page.getAttribute('.verdict', 'data-verdict-kind'), text: (await page.textContent('.verdict .v-title')).trim() });
async function check(name) {
  for (const v of await axe(page)) violations.push(`${name}: ${v}`);
}
async function both(name) {
  await shot(page, `${name}-1440`);
  await page.setViewportSize(viewports.phone);
  await page.waitForTimeout(150);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = over > 0 ? await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return false;
      return e.getBoundingClientRect().right > window.innerWidth + 1;
    })
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}:${Math.round(e.getBoundingClientRect().right)}`)) : [];
  const boxes = over > 0 ? await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().width > window.innerWidth + 1)
    .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}:${Math.round(e.getBoundingClientRect().width)}`)) : [];
  c.ok(over <= 0, `${name} at 390 px: ${over}px horizontal overflow (${wide.join(' ')}) (${boxes.join(' ')})`);
  await shot(page, `${name}-390`, true);
  await check(`${name} (390 px)`);
  await page.setViewportSize(viewports.desktop);
}

try {
  // The hub loads no map code, and little of anything.
  await visit('/tools');
  const res = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => ({ name: e.name, size: e.encodedBodySize })));
  const first = res.filter((e) => /\.(js|css)(\?|$)/.test(e.name)).reduce((n, e) => n + e.size, 0);
  console.log(`first load of /tools: ${first} bytes of compressed JS and CSS`);
  c.ok(first > 0 && first < 40 * 1024, `/tools loads ${first} bytes of JS+CSS, want under 40 KB`);
  c.ok(!res.some((e) => /map\.css|countries\.json|visualtrace/.test(e.name)), `/tools loads map code: ${res.map((e) => e.name).join(' ')}`);
  c.ok(await page.locator('.cards a.card').count() === 14, 'hub lists the 14 tools');
  c.ok((await page.title()).startsWith('Network and DNS tools'), `hub title ${await page.title()}`);
  c.ok((await page.getAttribute('meta[name=description]', 'content'))?.length > 20, 'hub has a description');
  await check('hub');
  await both('hub');

  // An unknown path: the 404 page, in HTML.
  const nf = await visit('/no-such-page');
  c.ok(nf.status() === 404 && (await page.textContent('h1')) === 'Page not found', `unknown path: ${nf.status()} ${await page.textContent('h1')}`);
  c.ok(await page.locator('main a[href="/visualtrace"]').count() === 1, 'the 404 page links the tools');
  await shot(page, 'notfound-1440');

  // DNS: an answer, then NXDOMAIN; the permalink restores every field.
  await visit('/dns');
  c.ok((await page.title()).startsWith('DNS lookup'), 'dns title');
  await page.fill('input[name=target]', 'example.test');
  await page.selectOption('select[name=type]', 'MX');
  await page.waitForSelector('select[name=server] option[value="lab-2"]', { state: 'attached' });
  await page.selectOption('select[name=server]', 'lab-2');
  await page.check('input[name=dnssec]');
  await submit();
  let v = await verdict();
  c.ok(v.kind === 'ok' && /has 1 MX record/.test(v.text), `dns MX verdict ${JSON.stringify(v)}`);
  c.ok((await page.textContent('table.records tbody')).includes('mail.example.test.'), 'dns: MX answer shown');
  const dnsLink = await page.getAttribute('.permalink', 'href');
  await check('dns');
  await both('dns');
  await visit(dnsLink);
  await page.waitForSelector('.verdict');
  c.ok(await page.inputValue('input[name=target]') === 'example.test' && await page.inputValue('select[name=type]') === 'MX' &&
    await page.inputValue('select[name=server]') === 'lab-2' && await page.isChecked('input[name=dnssec]'), 'dns permalink restores name, type, resolver and DNSSEC');
  await page.fill('input[name=target]', 'nope.example.test');
  await page.selectOption('select[name=type]', 'A');
  await page.focus('input[name=target]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.verdict[data-rcode="NXDOMAIN"]');
  v = await verdict();
  c.ok(v.kind === 'fail' && /does not exist \(NXDOMAIN\)/.test(v.text), `dns NXDOMAIN verdict ${JSON.stringify(v)}`);
  await shot(page, 'dns-nxdomain-1440');
  const dnsID = new URL(base + await page.getAttribute('.permalink', 'href')).searchParams.get('m');
  // A measurement of another kind opens its own page.
  await page.goto(`${base}/visualtrace?m=${dnsID}`);
  await page.waitForURL(/\/dns\?m=/);
  await ready(page);
  await page.waitForSelector('.verdict');
  c.ok(await page.inputValue('input[name=target]') === 'nope.example.test', 'a dns permalink opened on /visualtrace lands on /dns');
  await page.goto(`${base}/http?m=${dnsID}`);
  await page.waitForURL(/\/dns\?m=/);

  // Propagation: the resolver that misses the expected value is named.
  await visit('/propagation');
  await page.fill('input[name=target]', 'example.test');
  await page.fill('input[name=expect]', '192.0.2.10');
  await submit('[data-verdict]');
  v = await verdict();
  c.ok(v.kind === 'fail' && /Expected value missing at 1 of 3/.test(v.text), `propagation verdict ${JSON.stringify(v)}`);
  const detail = await page.textContent('.verdict p');
  c.ok(/lab-3 \(São Paulo\) lacks 192\.0\.2\.10/.test(detail), `propagation names the resolver: ${detail}`);
  const rows = await page.$$eval('table.answers tbody tr[data-group]', (trs) => trs.map((tr) => tr.dataset.group));
  c.ok(rows.length === 3 && new Set(rows).size === 2, `propagation: groups ${rows}, want 3 rows in 2 groups`);
  const markers = await page.$$eval('path.resolver-marker', (ps) => ps.map((p) => p.getAttribute('fill')));
  c.ok(markers.length === 3 && new Set(markers).size === 2, `propagation: marker colours ${markers}`);
  for (const col of ['TTL', 'RTT']) {
    const th = page.locator('table.answers th', { hasText: col });
    const bb = await th.boundingBox();
    c.ok(bb && bb.x + bb.width <= viewports.desktop.width, `propagation: ${col} column on screen at 1440 px`);
  }
  const propLink = await page.getAttribute('.permalink', 'href');
  await check('propagation');
  await both('propagation');
  await visit(propLink);
  await page.waitForSelector('[data-verdict]');
  c.ok(await page.inputValue('input[name=expect]') === '192.0.2.10' && await page.inputValue('input[name=target]') === 'example.test', 'propagation permalink restores name and expected value');

  // Scan: a healthy domain with findings, NXDOMAIN and REFUSED are failures; the URL keeps the form.
  await visit('/scan');
  await page.fill('input[name=target]', 'example.test');
  await submit();
  v = await verdict();
  c.ok(v.kind === 'warn' && /example\.test\.? resolves/.test(v.text), `scan verdict ${JSON.stringify(v)}`);
  c.ok((await page.textContent('.verdict')).includes('No DMARC'), 'scan lists missing DMARC');
  await check('scan');
  await both('scan');
  for (const [name, rcode] of [['nope.example.test', 'NXDOMAIN'], ['other.test', 'REFUSED']]) {
    await visit(`/scan?target=${name}`);
    await page.waitForSelector(`.verdict[data-rcode="${rcode}"]`);
    v = await verdict();
    c.ok(v.kind === 'fail' && v.text.includes(rcode), `scan of ${name}: ${JSON.stringify(v)}, want a ${rcode} failure`);
    c.ok(await page.inputValue('input[name=target]') === name, `scan permalink restores ${name}`);
  }
  await shot(page, 'scan-refused-1440');

  // Compare: the URL keeps both domains.
  await visit('/compare?domain1=example.test&domain2=www.example.test');
  await page.waitForSelector('.verdict');
  c.ok(await page.inputValue('input[name=domain2]') === 'www.example.test', 'compare permalink restores both domains');
  c.ok(await page.locator('tr.differs').count() > 0, 'compare: differences marked');
  await check('compare');
  await both('compare');

  // HTTP: 200 is ok, 502 a server error.
  // Root servers: the 13 letters' operators on the map. The form is not
  // sent: that would ask the real root servers (the kind's tests use
  // loopback stand-ins).
  await visit('/roots');
  await page.waitForSelector('path.root-marker', { timeout: 30000 });
  c.ok(await page.locator('path.root-marker').count() === 13, `/roots: ${await page.locator('path.root-marker').count()} root markers, want 13`);
  c.ok((await page.textContent('.tools-nav')).includes('Roots'), '/roots is in the tools navigation');
  await check('roots');
  await both('roots');

  await visit('/http');
  await page.fill('input[name=target]', `http://${httpAddr}/`);
  await submit();
  v = await verdict();
  c.ok(v.kind === 'ok' && /^200 OK/.test(v.text), `http 200 verdict ${JSON.stringify(v)}`);
  c.ok((await page.$$eval('.waterfall .wf-name', (els) => els.map((e) => e.textContent))).includes('Connect'), 'http: waterfall');
  await check('http');
  await both('http');
  await page.fill('input[name=target]', `http://${httpAddr}/502`);
  await page.selectOption('select[name=method]', 'HEAD');
  await page.uncheck('input[name=follow_redirects]');
  await submit('.verdict[data-status="502"]');
  v = await verdict();
  c.ok(v.kind === 'fail' && /Server error: 502 Bad Gateway/.test(v.text), `http 502 verdict ${JSON.stringify(v)}`);
  await shot(page, 'http-502-1440');
  const httpLink = await page.getAttribute('.permalink', 'href');
  await visit(httpLink);
  await page.waitForSelector('.verdict');
  c.ok(await page.inputValue('select[name=method]') === 'HEAD' && !(await page.isChecked('input[name=follow_redirects]')) &&
    (await page.inputValue('input[name=target]')).endsWith('/502'), 'http permalink restores URL, method and redirects');

  // TCP: open port, then a refused one.
  await visit('/tcp');
  await page.fill('input[name=target]', httpAddr);
  await submit();
  v = await verdict();
  c.ok(v.kind === 'ok' && /^Connected to/.test(v.text), `tcp verdict ${JSON.stringify(v)}`);
  await check('tcp');
  await both('tcp');
  await page.fill('input[name=target]', '127.0.0.2:1');
  await submit('.verdict.fail');
  v = await verdict();
  c.ok(/Could not connect/.test(v.text) && (await page.textContent('.verdict')).includes('refused'), `tcp refused verdict ${JSON.stringify(v)}`);
  await shot(page, 'tcp-refused-1440');

  // WebSocket echo.
  await visit('/ws');
  await page.fill('input[name=target]', `ws://${httpAddr}/ws`);
  await page.fill('input[name=send]', 'ping');
  await page.fill('input[name=expect]', 'echo: ping');
  await submit();
  v = await verdict();
  c.ok(v.kind === 'ok', `ws verdict ${JSON.stringify(v)}`);
  const wsLink = await page.getAttribute('.permalink', 'href');
  await check('ws');
  await both('ws');
  await visit(wsLink);
  await page.waitForSelector('.verdict');
  c.ok(await page.inputValue('input[name=send]') === 'ping' && await page.inputValue('input[name=expect]') === 'echo: ping', 'ws permalink restores message and expectation');

  // Certificate: the lab's certificate is trusted by no one.
  await visit('/cert');
  await page.fill('input[name=target]', tlsAddr);
  await page.fill('input[name=sni]', 'example.com');
  await submit();
  v = await verdict();
  c.ok(v.kind === 'fail' && /not trust/.test(v.text), `cert verdict ${JSON.stringify(v)}`);
  await check('cert');
  await both('cert');

  // IP geolocation: a private address has no place, and says why.
  await visit('/geo');
  await page.fill('input[name=target]', '10.1.2.3');
  await submit();
  v = await verdict();
  c.ok(v.kind === 'warn' && /private address/.test(v.text), `geo verdict ${JSON.stringify(v)}`);
  await check('geo');
  await both('geo');

  // Diagnose: the layers, then one readable cause with the raw error folded.
  await visit('/diagnose');
  await page.fill('input[name=target]', `http://${httpAddr}/502`);
  await page.click('button[type=submit]');
  await page.waitForSelector('.steps .step');
  c.ok(await page.locator('.progress').isVisible() || await page.locator('.verdict').isVisible(), 'diagnose shows progress at once');
  await page.waitForSelector('.verdict', { timeout: 90000 });
  v = await verdict();
  c.ok(v.kind === 'fail' && /^HTTP fails/.test(v.text), `diagnose verdict ${JSON.stringify(v)}`);
  const steps = await page.$$eval('.verdict ~ .steps .step', (ls) => ls.map((l) => `${l.dataset.layer}:${l.dataset.status}`));
  c.ok(steps.join(' ') === 'dns:skip tcp:ok http:fail', `diagnose steps ${steps}`);
  c.ok(!/--[a-z]/.test(await page.textContent('.verdict p')), 'diagnose advice names no command-line flags');
  await check('diagnose');
  await both('diagnose');
  await page.fill('input[name=target]', `http://${httpAddr}/`);
  await submit('.verdict.ok');
  await shot(page, 'diagnose-ok-1440');

  // A policy refusal and a rate limit, said plainly.
  await visit('/visualtrace');
  await page.fill('input[name=target]', '127.0.0.1');
  await page.click('button[type=submit]');
  await page.waitForSelector('.errors .alert[data-status]');
  c.ok(await page.getAttribute('.errors .alert', 'data-status') === '403', 'trace of 127.0.0.1: 403 shown');
  c.ok((await page.textContent('.errors .alert')).includes('target policy'), 'the 403 says it is the target policy');
  await both('visualtrace-empty');
  await page.evaluate(async () => {
    for (let i = 0; i < 12; i++) {
      await fetch('/api/v1/measurements', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'trace', target: '127.0.0.1' }) });
    }
  });
  await page.click('button[type=submit]');
  await page.waitForSelector('.errors .alert[data-status="429"]');
  c.ok(/Try again in \d+ s/.test(await page.textContent('.errors .alert')), 'the 429 says how long to wait');

  // API docs work offline.
  await page.goto(`${base}/api/docs`);
  await page.waitForSelector('.opblock', { timeout: 30000 });
  c.ok(await page.locator('.opblock').count() > 10, 'api docs list the operations');

  c.ok(violations.length === 0, `axe-core:\n   ${violations.join('\n   ')}`);
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
  const errs = b.consoleErrors.filter((e) => !/status of (403|404|429|400)/.test(e));
  c.ok(errs.length === 0, `console errors: ${errs.join(' | ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'pages-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('pages');
