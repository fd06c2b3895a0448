// Live reload in real headless Chromium: under `portal serve --live-reload`, an open page
// reloads by itself once a saved edit is rebuilt; the page's own CSP allows it (no
// bypass); and without the flag no page carries the script.
//
// Run by the test command after `cargo build`: node --test tests/browser/
// Needs: target/browser/node_modules (npm ci), /usr/bin/chromium, target/debug/portal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(root, 'target/browser/package.json'));
const { chromium } = require('playwright-core');

let browser;
let dir;
const servers = [];

/** Starts `portal serve` on a copy of the demo content; resolves to its base URL. */
function serve(name, extra) {
  const out = path.join(dir, name);
  const bin = process.env.PORTAL_BIN || path.join(root, 'target/debug/portal');
  const server = spawn(bin, ['serve', '--port', '0', '--content', path.join(dir, 'content'),
    '--out', out, '--data', path.join(out, 'data'), ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(server);
  let buffer = '';
  server.stdout.on('data', (chunk) => { buffer += chunk; });
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('portal serve did not start in 60 s')), 60_000);
    server.stdout.on('data', () => {
      const m = buffer.match(/Serving (http:\/\/[^\s/]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`portal serve exited with ${code}`)));
  });
  return { base, output: () => buffer };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'portal-live-'));
  cpSync(path.join(root, 'content'), path.join(dir, 'content'), { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('an open page reloads itself after a saved edit is rebuilt', async () => {
  const { base } = serve('live', ['--live-reload']);
  const url = (await base) + '/kb/refund-a-sale';
  const context = await browser.newContext();
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => { if (m.type() === 'error') blocked.push(m.text()); });
  // The page is listening (the server answered its event stream) before the edit is saved.
  const listening = page.waitForResponse((r) => r.url().endsWith('/__portal/live'), { timeout: 10_000 });
  await page.goto(url);
  assert.match(await page.title(), /Refund a sale/);
  assert.equal((await listening).headers()['content-type'], 'text/event-stream');
  const file = path.join(dir, 'content/kb/point-of-sale/refund-a-sale.md');
  const text = readFileSync(file, 'utf8');
  const loads = [];
  page.on('load', () => loads.push(Date.now()));
  writeFileSync(file, text.replace('title = "Refund a sale"', 'title = "Refund or swap a sale"'));
  await page.waitForFunction(() => document.title.includes('Refund or swap a sale'), null, { timeout: 20_000 });
  assert.ok(loads.length >= 1, 'the page was loaded again, not patched');
  assert.deepEqual(blocked, [], 'nothing was refused by the page\'s security policy');
  await context.close();
});

test('without --live-reload no page carries the script', async () => {
  const { base } = serve('plain', []);
  const b = await base;
  const page = await browser.newPage();
  await page.goto(b + '/kb/refund-a-sale');
  const scripts = await page.$$eval('script', (s) => s.map((e) => e.getAttribute('src')));
  assert.ok(!scripts.some((s) => s && s.includes('__portal')), `scripts: ${scripts}`);
  const response = await page.goto(b + '/__portal/live.js');
  assert.equal(response.status(), 404);
  await page.close();
});
