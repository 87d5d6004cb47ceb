// Browser test of the domain health page: node health.mjs BASE ROOTS ANCHOR
// The server scans a signed hierarchy on loopback (ROOTS, trust ANCHOR):
// secure.test holds, expired.test is bogus at its own zone, faults.test has
// delegation faults.
import { axe, checker, open, ready, shot } from './lib.mjs';

const [base, roots, anchor] = process.argv.slice(2);
const c = checker();
const b = await open(base);
const { page } = b;

async function scan(domain) {
  await page.goto(base + '/domainhealth');
  await ready(page);
  await page.fill('input[name=target]', domain);
  await page.fill('input[name=roots]', roots);
  await page.fill('textarea[name=trust_anchor]', anchor);
  await page.check('input[name=no_ipv6]');
  await page.click('button[type=submit]');
  await page.waitForSelector('.verdict', { timeout: 60000 });
}
const states = () => page.$$eval('svg.chain g.box', (gs) => gs.map((g) => g.getAttribute('data-state')));

try {
  await scan('secure.test');
  c.ok(await page.getAttribute('.dnssec-status', 'data-status') === 'secure', 'secure.test: DNSSEC secure');
  let s = await states();
  c.ok(s.length >= 9 && !s.includes('fail'), `secure.test: the chain root → test → secure.test all held: ${s}`);
  c.ok((await page.textContent('svg.chain')).includes('secure.test.'), 'the chain names the domain');
  for (const v of await axe(page)) c.ok(false, `axe on /domainhealth: ${v}`);
  await shot(page, 'health-secure-1440');

  await scan('expired.test');
  c.ok(await page.getAttribute('.verdict', 'data-verdict-kind') === 'fail', 'expired.test: a failing verdict');
  c.ok(await page.getAttribute('.dnssec-status', 'data-status') === 'bogus', 'expired.test: DNSSEC bogus');
  s = await states();
  c.ok(s.filter((x) => x === 'fail').length === 1 && s.slice(0, 6).every((x) => x === 'ok'), `expired.test: one broken box, after two good links: ${s}`);
  c.ok((await page.textContent('svg.chain')).includes('dnssec_signature_expired'), 'the broken link says why');
  c.ok((await page.textContent('.findings-table')).includes('dnssec_signature_expired'), 'the findings list the expiry');
  await shot(page, 'health-expired-1440');

  await scan('faults.test');
  const f = await page.textContent('.findings-table');
  for (const code of ['glue_mismatch', 'ns_lame', 'soa_serial_differs', 'axfr_open', 'recursion_open']) c.ok(f.includes(code), `faults.test: finding ${code}`);
  c.ok(await page.locator('.servers-table tbody tr').count() >= 6, 'faults.test: every server address listed');
  const link = await page.getAttribute('.permalink', 'href');
  await page.goto(base + link);
  await ready(page);
  await page.waitForSelector('.findings-table');
  c.ok(await page.inputValue('input[name=target]') === 'faults.test', 'the permalink restores the domain');
  await shot(page, 'health-faults-1440');
  c.ok(b.offsite.length === 0, `requests left the server's origin: ${b.offsite.join(' ')}`);
} catch (e) {
  c.ok(false, `exception: ${e.stack ?? e}`);
  await shot(page, 'health-failure').catch(() => {});
} finally {
  await b.close();
}
c.done('health');
