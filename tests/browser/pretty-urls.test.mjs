// The CloudFront function in infra/template.yaml maps the URLs people use to the objects the
// build writes, the way `portal serve` does: run here on its own, in Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const root = path.resolve(import.meta.dirname, '../..');
const template = readFileSync(path.join(root, 'infra/template.yaml'), 'utf8');
const code = template.split('FunctionCode: |\n')[1].split('\n\n')[0];
const sandbox = {};
vm.runInNewContext(code + '\nthis.handler = handler;', sandbox);

test('the CloudFront function maps pretty URLs to the build\'s files', () => {
  const cases = {
    '/': '/index.html',
    '/kb/': '/kb/index.html',
    '/kb/refund-a-sale': '/kb/refund-a-sale.html',
    '/kb/topic/point-of-sale': '/kb/topic/point-of-sale.html',
    '/calendar/2027/03': '/calendar/2027/03.html',
    '/calendar.ics': '/calendar.ics',
    '/static/style.css': '/static/style.css',
    '/documents/price-list-2026.pdf': '/documents/price-list-2026.pdf',
  };
  for (const [uri, object] of Object.entries(cases)) {
    assert.equal(sandbox.handler({ request: { uri } }).uri, object, uri);
  }
});
