// The staff desk in real headless Chromium, on `portal serve`: an agent added with
// `portal admin staff add` activates the login, sets up an authenticator app, logs in with
// its code, and answers an issue a visitor filed through the public form; the visitor's
// tracking page shows the reply and the new status, and the mail went out. axe-core finds
// no serious or critical WCAG 2.2 AA violation on any desk screen, an agent's and a
// manager's, in light and dark.
//
// Run by the test command after `cargo build`: node --test tests/browser/
// Needs: target/browser/node_modules (npm ci), /usr/bin/chromium, target/debug/portal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(root, 'target/browser/package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const bin = process.env.PORTAL_BIN || path.join(root, 'target/debug/portal');

let server;
let base;
let browser;
let out;

before(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'portal-desk-'));
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

/** The mails in the outbox folder, oldest first. */
function mails() {
  const dir = path.join(out, 'data', 'outbox');
  return readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

/** RFC 6238 code (HMAC-SHA1, six digits, 30 s) for a base32 secret, `offset` seconds on. */
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor((Date.now() / 1000 + offset) / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 15;
  const n = ((mac[o] & 127) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

async function audit(context, url) {
  const page = await context.newPage();
  const response = await page.goto(base + url);
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  await page.close();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return { status: response.status(), bad, passes: results.passes.length };
}

test('an agent sets up an app, logs in with its code and answers a visitor on the desk; every desk screen passes axe', async () => {
  execFileSync(bin, ['admin', '--store', `sqlite:${path.join(out, 'data', 'portal.db')}`, 'staff', 'add', 'ann@kestrel-systems.co.uk', '--role', 'agent', '--name', 'Ann Agent'], { cwd: root, stdio: 'pipe' });
  const invite = mails().find((m) => m.includes('To: ann@kestrel-systems.co.uk'));
  const link = invite.match(/\/desk\/activate\/[0-9a-f]{32}/)[0];

  // A visitor files an issue through the public form, without JavaScript.
  const visitor = await browser.newContext({ javaScriptEnabled: false });
  const vpage = await visitor.newPage();
  await vpage.goto(base + '/issues/new');
  await vpage.getByLabel('Your name').fill('Vera Visitor');
  await vpage.getByLabel('E-mail address').fill('vera@example.com');
  await vpage.getByLabel('Subject').fill('Till drawer stuck');
  await vpage.getByLabel('What happened?').fill('The drawer will not open after a sale.');
  await Promise.all([vpage.waitForURL(/\/track\/[0-9a-f]{32}$/), vpage.getByRole('button', { name: 'Send' }).click()]);
  const tracking = vpage.url();
  const number = (await vpage.locator('main h1').textContent()).replace('Issue ', '').trim();

  // The agent chooses a password, logs in, and sets up an authenticator app.
  const desk = await browser.newContext();
  const page = await desk.newPage();
  await page.goto(base + link);
  await page.getByLabel('New password').fill('tea kettle whistle');
  await Promise.all([page.waitForURL('**/desk/login#activated'), page.getByRole('button', { name: 'Save my password' }).click()]);
  await page.getByLabel('E-mail address').fill('ann@kestrel-systems.co.uk');
  await page.getByLabel('Password').fill('tea kettle whistle');
  await Promise.all([page.waitForURL('**/desk/'), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.getByRole('link', { name: 'Security' }).click();
  assert.ok(await page.locator('.qr svg').isVisible(), 'a QR code to scan');
  const secret = (await page.locator('.qr + .hint code').textContent()).trim();
  await page.getByLabel('Code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('main h1').textContent(), 'Your recovery codes');
  assert.equal(await page.locator('.recovery-codes li').count(), 10);
  const securityUrl = '/desk/security';
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/desk/login');

  // From now on her login needs the app's code.
  await page.getByLabel('E-mail address').fill('ann@kestrel-systems.co.uk');
  await page.getByLabel('Password').fill('tea kettle whistle');
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, 30));
  await Promise.all([page.waitForURL('**/desk/'), page.getByRole('button', { name: 'Log in' }).click()]);

  // She finds the issue in the queue, replies and sets its status.
  await page.getByRole('link', { name: 'Unassigned' }).click();
  await Promise.all([page.waitForURL(`**/desk/issues/${number}`), page.getByRole('link', { name: number }).click()]);
  assert.ok(await page.getByText('The drawer will not open after a sale.').isVisible());
  await page.getByLabel('Reply', { exact: true }).fill('Press the release lever under the till; the drawer opens.');
  await Promise.all([page.waitForURL(`**/desk/issues/${number}#thread`), page.getByRole('button', { name: 'Send reply' }).click()]);
  await page.getByLabel('Status', { exact: true }).selectOption('resolved');
  await page.getByLabel('Assigned to').selectOption('ann@kestrel-systems.co.uk');
  await Promise.all([page.waitForURL(`**/desk/issues/${number}#status`), page.getByRole('button', { name: 'Save' }).click()]);
  assert.equal((await page.locator('.status').textContent()).trim(), 'resolved');

  // The visitor's tracking page shows the reply and the status; the reply was mailed.
  await vpage.goto(tracking);
  assert.equal((await vpage.locator('.status').textContent()).trim(), 'resolved');
  assert.ok(await vpage.getByText('Press the release lever under the till').isVisible());
  assert.ok(mails().some((m) => m.includes('To: vera@example.com') && m.includes('Press the release lever under the till')));
  await visitor.close();

  // Every desk screen, in light and dark.
  const screens = ['/desk/', '/desk/?view=mine', `/desk/issues/${number}`, securityUrl];
  for (const scheme of ['light', 'dark']) {
    const seen = await browser.newContext({ colorScheme: scheme, bypassCSP: true, storageState: await desk.storageState() });
    for (const url of screens) {
      const { status, bad, passes } = await audit(seen, url);
      assert.equal(status, 200, url);
      assert.equal(bad.length, 0, `${url} (${scheme}):\n` + bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n'));
      assert.ok(passes > 10, 'axe actually ran its checks');
    }
    await seen.close();
    const anonymous = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
    const { status, bad } = await audit(anonymous, '/desk/login');
    assert.equal(status, 200);
    assert.equal(bad.length, 0, bad.map((v) => `${v.id}: ${v.help}`).join('\n'));
    await anonymous.close();
  }
  await desk.close();

  // A manager's screens: customers, one account, its project and the view as one of its
  // logins, events and one event, a newsletter, requests, insight.
  execFileSync(bin, ['admin', '--store', `sqlite:${path.join(out, 'data', 'portal.db')}`, 'staff', 'add', 'max@kestrel-systems.co.uk', '--role', 'manager', '--name', 'Max Manager'], { cwd: root, stdio: 'pipe' });
  const maxLink = mails().find((m) => m.includes('To: max@kestrel-systems.co.uk')).match(/\/desk\/activate\/[0-9a-f]{32}/)[0];
  const manager = await browser.newContext();
  const mpage = await manager.newPage();
  await mpage.goto(base + maxLink);
  await mpage.getByLabel('New password').fill('a manager password');
  await Promise.all([mpage.waitForURL('**/desk/login#activated'), mpage.getByRole('button', { name: 'Save my password' }).click()]);
  await mpage.getByLabel('E-mail address').fill('max@kestrel-systems.co.uk');
  await mpage.getByLabel('Password').fill('a manager password');
  await Promise.all([mpage.waitForURL('**/desk/'), mpage.getByRole('button', { name: 'Log in' }).click()]);
  await mpage.getByRole('link', { name: 'Customers' }).click();
  await Promise.all([mpage.waitForURL(/\/desk\/customers\/[^/]+$/), mpage.getByRole('link').filter({ hasText: /^demo-/ }).first().click()]);
  const account = new URL(mpage.url()).pathname;
  const project = `${account}/projects/${account.split('/').pop()}-project`;
  const viewAs = await mpage.getByRole('link', { name: /^View as / }).first().getAttribute('href');
  await mpage.getByRole('link', { name: 'Events and newsletters' }).click();
  const event = await mpage.locator('main table a').first().getAttribute('href');
  const newsletter = await mpage.locator('main ul a').first().getAttribute('href');
  const managerScreens = ['/desk/customers', account, project, viewAs, '/desk/events', event, newsletter, '/desk/requests', '/desk/insight'];
  for (const scheme of ['light', 'dark']) {
    const seen = await browser.newContext({ colorScheme: scheme, bypassCSP: true, storageState: await manager.storageState() });
    for (const url of managerScreens) {
      const { status, bad, passes } = await audit(seen, url);
      assert.equal(status, 200, url);
      assert.equal(bad.length, 0, `${url} (${scheme}):\n` + bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n'));
      assert.ok(passes > 10, 'axe actually ran its checks');
    }
    await seen.close();
  }
  await manager.close();
});
