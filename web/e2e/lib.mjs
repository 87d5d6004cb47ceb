// Shared browser-test helpers: Debian's Chromium driven by playwright-core,
// a fresh profile, every request checked to stay on the server's origin,
// screenshots into artifacts/ (git-ignored).
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const artifacts = process.env.ARTIFACTS_DIR || join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts', 'web');

export const viewports = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } };

export async function open(base, viewport = viewports.desktop) {
  const profile = mkdtempSync(join(tmpdir(), 'dnsscience-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport,
    // axe-core is injected by the test; the pages' CSP allows no inline script.
    bypassCSP: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const origin = new URL(base).origin;
  const offsite = [];
  const consoleErrors = [];
  context.on('request', (req) => {
    const u = req.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    if (new URL(u).origin !== origin) offsite.push(u);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (process.env.E2E_DEBUG) console.log('browser:', m.text()); if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.setDefaultTimeout(30000);
  return {
    context, page, offsite, consoleErrors,
    async close() { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

export async function shot(page, name, fullPage = false) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
}

// check collects failures so one run reports all of them.
export function checker() {
  const failures = [];
  return {
    failures,
    ok(cond, msg) { if (!cond) failures.push(msg); },
    done(label) {
      if (failures.length) {
        console.error(`${label}: ${failures.length} failed\n - ${failures.join('\n - ')}`);
        process.exit(1);
      }
      console.log(`${label}: ok`);
    },
  };
}

export async function ready(page) {
  await page.waitForSelector('body[data-ready=true]');
}

// axe runs axe-core (npm) in the page and returns its violations as
// "rule: target" lines (empty when the page is clean).
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function axe(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return found.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.split('\n')[1]?.trim() ?? v.help}`));
}

// inside tells whether box a lies within box b (a few pixels of slack).
export const inside = (a, b, slack = 1) => !!a && !!b && a.x >= b.x - slack && a.y >= b.y - slack && a.x + a.width <= b.x + b.width + slack && a.y + a.height <= b.y + b.height + slack;
