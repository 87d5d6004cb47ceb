// Shared browser-test helpers: Debian's Chromium driven by playwright-core,
// a fresh profile, every request checked to stay on the server's origin,
// screenshots into artifacts/ (git-ignored).
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const artifacts = process.env.ARTIFACTS_DIR || join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts', 'web');

export const viewports = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 812 } };

export async function open(base, viewport = viewports.desktop) {
  const profile = mkdtempSync(join(tmpdir(), 'dnsscience-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport,
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
