// Browser checks of the public site served by `portal serve`, in real headless Chromium:
// axe-core finds no serious or critical WCAG 2.2 AA violation on one page of each type, in
// light and dark colour schemes, and every page renders its content with JavaScript off.
//
// Run by the test command after `cargo build`: node --test tests/browser/
// Needs: target/browser/node_modules (npm ci), /usr/bin/chromium, target/debug/portal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(root, 'target/browser/package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const PAGES = [
  '/', '/contact', '/faq/', '/about/',
  '/kb/', '/kb/topic/point-of-sale', '/kb/refund-a-sale', '/kb/first-week-checklist', '/kb/tags/', '/kb/tags/card-payments',
  '/calendar/', '/calendar/2027/03', '/calendar/stock-control-seminar-january',
  '/documents/', '/search/', '/search?q=card+payment', '/search?q=nothing+matches+zzz',
  '/issues/new', '/issues/track', '/request/login', '/request/estore', '/newsletter', '/appointments',
  '/no-such-page/',
];

let server;
let base;
let browser;
let out;

before(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'portal-browser-'));
  const bin = process.env.PORTAL_BIN || path.join(root, 'target/debug/portal');
  server = spawn(bin, ['serve', '--port', '0', '--out', out, '--data', path.join(out, 'data')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('portal serve did not start in 60 s')), 60_000);
    server.stdout.on('data', (chunk) => {
      buffer += chunk;
      const m = buffer.match(/Serving (http:\/\/[^\s/]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`portal serve exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (out) rmSync(out, { recursive: true, force: true });
});

async function audit(url, colorScheme) {
  // The site's CSP forbids inline script, as it should; the audit injects axe anyway.
  const context = await browser.newContext({ colorScheme, bypassCSP: true });
  const page = await context.newPage();
  const response = await page.goto(base + url);
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  await context.close();
  return { status: response.status(), results };
}

for (const url of PAGES) {
  for (const scheme of ['light', 'dark']) {
    test(`${url} (${scheme}) has no serious or critical WCAG 2.2 AA violation`, async () => {
      const { status, results } = await audit(url, scheme);
      assert.equal(status, url === '/no-such-page/' ? 404 : 200);
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n');
      assert.equal(bad.length, 0, report);
      assert.ok(results.passes.length > 10, 'axe actually ran its checks');
    });
  }

  test(`${url} renders with JavaScript off`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(base + url);
    const h1 = (await page.locator('main h1').first().textContent()).trim();
    if (url.startsWith('/search?q=card')) assert.ok(await page.locator('ol.results li').count() > 0, 'results without JavaScript');
    assert.ok(h1.length > 0, 'the page has a heading');
    assert.ok(await page.locator('nav[aria-label="Main"] a').count() >= 6, 'the main navigation is there');
    await context.close();
  });
}

test('the skip link moves focus to the main content', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/kb/');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to main content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  await page.close();
});

test('the issue form submits to the issues route without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/issues/new');
  const form = page.locator('main form');
  assert.equal(await form.getAttribute('action'), '/api/issues');
  assert.equal(await form.getAttribute('method'), 'post');
  for (const label of ['Your name', 'E-mail address', 'Subject', 'What happened?']) {
    assert.ok(await page.getByLabel(label).isVisible(), `${label} is labelled`);
  }
  await context.close();
});

test('a visitor files an issue without JavaScript, with a file, and follows it on an accessible tracking page', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/issues/new');
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('E-mail address').fill('ada@example.com');
  await page.getByLabel('Subject').fill('Receipts come out blank');
  await page.getByLabel('What happened?').fill('Since this morning every receipt is blank.');
  await page.getByLabel('Attachments (optional)').setInputFiles({ name: 'till.log', mimeType: 'text/plain', buffer: Buffer.from('ERROR 42: paper out\n') });
  await Promise.all([page.waitForURL(/\/track\/[0-9a-f]{32}$/), page.getByRole('button', { name: 'Send' }).click()]);
  assert.match(await page.locator('main h1').textContent(), /^Issue KST-\d{4}-\d{6}$/);
  assert.equal((await page.locator('.status').textContent()).trim(), 'new');
  assert.ok(await page.getByRole('link', { name: 'till.log' }).isVisible(), 'the file is listed');
  await page.getByLabel('Your note').fill('It also happens on the second till.');
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/notes')), page.getByRole('button', { name: 'Add note' }).click()]);
  await page.waitForLoadState();
  assert.ok(await page.getByText('It also happens on the second till.').isVisible(), 'the note is shown');
  const url = new URL(page.url()).pathname;
  await context.close();
  for (const scheme of ['light', 'dark']) {
    const { status, results } = await audit(url, scheme);
    assert.equal(status, 200);
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.equal(bad.length, 0, bad.map((v) => `${v.id}: ${v.help}`).join('\n'));
  }
});

test('a registration without JavaScript shows its confirmation on the event page', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/calendar/card-payments-webinar-march');
  assert.equal(await page.locator('#registered').isVisible(), false, 'hidden until registered');
  await page.getByLabel('Your name').fill('Grace Hopper');
  await page.getByLabel('E-mail address').fill('grace@example.com');
  await Promise.all([page.waitForURL(/#registered$/), page.getByRole('button', { name: 'Register' }).click()]);
  assert.ok(await page.locator('#registered').isVisible(), 'the confirmation shows');
  assert.equal(await page.locator('#waitlisted').isVisible(), false);
  await context.close();
});

test('a refused form post explains what is wrong and links back to the form', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/issues/new');
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('E-mail address').fill('ada@example.com');
  await page.getByLabel('Subject').fill('A web page');
  await page.getByLabel('What happened?').fill('See the attached page.');
  await page.getByLabel('Attachments (optional)').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<script>alert(1)</script>') });
  await Promise.all([page.waitForURL('**/api/issues'), page.getByRole('button', { name: 'Send' }).click()]);
  assert.equal(await page.locator('main h1').textContent(), 'Please check the form');
  assert.ok(await page.getByText('attachments: `page.html` holds text/plain').isVisible());
  assert.equal(await page.getByRole('link', { name: 'Back to the form' }).getAttribute('href'), '/issues/new');
  await context.close();
});

test('with JavaScript, forms carry a form token and an idempotency key, and the issue form suggests articles', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/issues/new');
  await page.waitForFunction(() => document.querySelector('input[name="form_token"]').value !== '');
  const token = await page.locator('input[name="form_token"]').inputValue();
  assert.match(token, /^\d+\.[0-9a-f]{64}$/);
  assert.match(await page.locator('input[name="idempotency_key"]').inputValue(), /^[0-9a-f-]{36}$/);
  await page.getByLabel('Subject').pressSequentially('refund a card sale', { delay: 20 });
  const suggestion = page.locator('#is-suggestions a').first();
  await suggestion.waitFor();
  assert.equal(await suggestion.textContent(), 'Refund a sale');
  assert.equal(await suggestion.getAttribute('href'), '/kb/refund-a-sale');
  await page.close();
});

test('with JavaScript, a file goes ahead of the form and the form names it; a refused file is explained beside the field', async () => {
  const page = await browser.newPage();
  const posts = [];
  page.on('request', (r) => { if (r.method() !== 'GET') posts.push({ method: r.method(), url: new URL(r.url()).pathname, body: r.postData() || '' }); });
  await page.goto(base + '/issues/new');
  await page.waitForFunction(() => document.querySelector('input[name="form_token"]').value !== '');
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('E-mail address').fill('ada@example.com');
  await page.getByLabel('Subject').fill('Drawer will not open');
  await page.getByLabel('What happened?').fill('The cash drawer stays shut; the log is attached.');
  // A file of a type the portal does not take is refused before anything is sent.
  await page.getByLabel('Attachments (optional)').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>hi</p>') });
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'page.html' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/issues/new', 'still on the form');
  await page.getByLabel('Attachments (optional)').setInputFiles({ name: 'drawer.log', mimeType: 'text/plain', buffer: Buffer.from('ERROR 7: drawer jammed\n') });
  await page.waitForTimeout(3100); // the form's minimum fill time
  await Promise.all([page.waitForURL(/\/track\/[0-9a-f]{32}$/), page.getByRole('button', { name: 'Send' }).click()]);
  assert.ok(await page.getByRole('link', { name: 'drawer.log' }).isVisible(), 'the file is listed');
  const sent = posts.map((p) => `${p.method} ${p.url.replace(/[^/]{40,}$/, 'TOKEN')}`);
  assert.deepEqual(sent.slice(-3), ['POST /api/uploads', 'PUT /api/uploads/TOKEN', 'POST /api/issues'], sent.join('\n'));
  const form = posts[posts.length - 1];
  assert.ok(!form.body.includes('drawer jammed'), 'the form itself carries no file');
  assert.match(form.body, /name="uploads"/);
  await page.close();
});

test('a customer logs in without JavaScript, and the customer area is accessible', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/my/');
  assert.equal(new URL(page.url()).pathname, '/login', 'the account sends strangers to the login');
  await page.getByLabel('E-mail address', { exact: true }).fill('ben@clifton-books.example');
  await page.getByLabel('Password', { exact: true }).fill('clifton books demo');
  await Promise.all([page.waitForURL('**/my/'), page.getByRole('button', { name: 'Log in' }).click()]);
  assert.equal(await page.locator('main h1').textContent(), 'Clifton Books');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-portal');
  assert.ok(session && session.secure && session.httpOnly && session.sameSite === 'Lax', JSON.stringify(cookies));
  // Every page of the area, in both colour schemes, with the session.
  const pages = ['/my/', '/my/invoices', '/my/payments', '/my/invoices/demo-2-inv-1', '/my/quotes/demo-2-quote-1', '/my/projects/demo-2-project', '/my/kb/price-increase-2027', '/my/search?q=licence', '/my/calendar/', '/my/calendar/2027/02', '/my/calendar/managers-reports-customers', '/my/calendar-feed'];
  for (const url of pages) {
    for (const colorScheme of ['light', 'dark']) {
      const scoped = await browser.newContext({ colorScheme, bypassCSP: true });
      await scoped.addCookies(cookies);
      const p = await scoped.newPage();
      const response = await p.goto(base + url);
      assert.equal(response.status(), 200, url);
      await p.addScriptTag({ content: axeSource });
      const results = await p.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }));
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.equal(bad.length, 0, `${url} (${colorScheme}): ` + bad.map((v) => `${v.id}: ${v.help} ${v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`).join('\n'));
      await scoped.close();
    }
  }
  // Log out: the session ends and the account is closed again.
  await Promise.all([page.waitForURL(base + '/'), page.getByRole('button', { name: 'Log out' }).click()]);
  await page.goto(base + '/my/');
  assert.equal(new URL(page.url()).pathname, '/login');
  await context.close();
});
