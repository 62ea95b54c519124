// The router and docs/openapi.yaml describe the same routes: a route the document lacks,
// or a documented route the server does not have, fails this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const bin = process.env.SHOUYE_BIN || new URL('../../build/shouye', import.meta.url).pathname;

function documented() {
  const text = readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8');
  const lines = text.split('\n');
  const out = new Set();
  let inPaths = false, path = null;
  for (const line of lines) {
    if (/^paths:\s*$/.test(line)) { inPaths = true; continue; }
    if (inPaths && /^\S/.test(line)) break;
    if (!inPaths) continue;
    let m = line.match(/^  (\/\S*):\s*$/);
    if (m) { path = m[1]; continue; }
    m = line.match(/^    (get|post|put|patch|delete):/);
    if (m && path) out.add(`${m[1].toUpperCase()} ${path}`);
  }
  return out;
}

test('every route the server has is in docs/openapi.yaml, and no other', () => {
  const routes = new Set(execFileSync(bin, ['routes'], { encoding: 'utf8' }).trim().split('\n'));
  const doc = documented();
  assert.ok(routes.size > 20, `shouye routes printed ${routes.size} routes`);
  const undocumented = [...routes].filter((r) => !doc.has(r));
  const phantom = [...doc].filter((r) => !routes.has(r));
  assert.deepEqual(undocumented, [], `routes missing from docs/openapi.yaml: ${undocumented.join(', ')}`);
  assert.deepEqual(phantom, [], `documented routes the server lacks: ${phantom.join(', ')}`);
});
