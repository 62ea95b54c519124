// Bad input gets a clear 4xx naming the field, never a crash, never a half-written change.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT } from './server.mjs';

let srv, agent;
before(async () => { srv = await startServer(); agent = await srv.login('agent1'); });
after(async () => { await srv.stop(); });

const good = { description: '无信号', severity: 'Minor', ticketType: 'faultReport', service: 'tv' };
async function total() {
  const r = await srv.api('GET', `${TT}?limit=1`, { token: agent });
  return Number(r.headers.get('x-total-count'));
}

describe('creating with bad input', () => {
  const cases = [
    ['a missing description', { severity: 'Minor', ticketType: 'inquiry' }, 400, 'description', 'missingField'],
    ['a blank description', { ...good, description: '   ' }, 400, 'description'],
    ['a severity outside the enum', { ...good, severity: 'Huge' }, 400, 'severity'],
    ['a ticketType outside the enum', { ...good, ticketType: 'rant' }, 400, 'ticketType'],
    ['a number for the description', { ...good, description: 5 }, 400, 'description'],
    ['an unknown field', { ...good, colour: 'red' }, 400, 'colour', 'unknownField'],
    ['a server-set field', { ...good, status: 'closed' }, 400, 'status', 'readOnlyField'],
    ['a name over 200 characters', { ...good, name: '名'.repeat(201) }, 400, 'name'],
    ['a party without id', { ...good, relatedParty: [{ role: 'customer' }] }, 400, 'relatedParty[0].id'],
    ['a bad customer level', { ...good, customerLevel: 'platinum' }, 400, 'customerLevel'],
    ['a bad area code', { ...good, area: 'GD/SZ' }, 400, 'area'],
    ['a bad date', { ...good, requestedResolutionDate: 'tomorrow' }, 400, 'requestedResolutionDate'],
    ['a note with a bad visibility', { ...good, note: [{ text: 'x', visibility: 'public' }] }, 400, 'note[0].visibility'],
  ];
  for (const [what, body, status, field, code] of cases) {
    test(`${what}: ${status} naming ${field}, nothing written`, async () => {
      const before = await total();
      const r = await srv.api('POST', TT, { token: agent, body });
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.equal(r.json.field, field);
      assert.equal(r.json.status, String(status));
      assert.ok(r.json.reason && r.json.message.includes(field.split('[')[0]));
      if (code) assert.equal(r.json.code, code);
      assert.equal(await total(), before);
    });
  }

  test('invalid JSON: 400 invalidJson', async () => {
    const r = await srv.api('POST', TT, { token: agent, raw: '{"description": ', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'invalidJson');
  });

  test('a JSON array instead of an object: 400', async () => {
    const r = await srv.api('POST', TT, { token: agent, raw: '[1,2]', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
  });

  test('a body over 1 MiB: 413', async () => {
    const r = await srv.api('POST', TT, { token: agent, body: { ...good, description: 'x'.repeat(1100 * 1024) } });
    assert.equal(r.status, 413);
    assert.equal(r.json.code, 'tooLarge');
  });

  test('nesting 100 deep: 400', async () => {
    const raw = '{"description":"x","severity":"Minor","ticketType":"inquiry","channel":' + '{"a":'.repeat(100) + '1' + '}'.repeat(100) + '}';
    const r = await srv.api('POST', TT, { token: agent, raw, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /deeper/);
  });

  test('invalid UTF-8 bytes in a string: 400', async () => {
    const raw = Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('","severity":"Minor","ticketType":"inquiry"}')]);
    const r = await srv.api('POST', TT, { token: agent, raw, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /UTF-8/);
  });

  test('a form-encoded body: 415', async () => {
    const r = await srv.api('POST', TT, { token: agent, raw: 'description=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415);
  });

  test('Chinese text up to the limit is kept exactly', async () => {
    const d = '用户反映：' + '机顶盒马赛克'.repeat(600);
    const r = await srv.api('POST', TT, { token: agent, body: { ...good, description: d.slice(0, 4000) } });
    assert.equal(r.status, 201);
    const g = await srv.api('GET', r.json.href, { token: agent });
    assert.equal(g.json.description, d.slice(0, 4000));
  });
});

describe('changing with bad input', () => {
  test('bad fields in a PATCH change nothing', async () => {
    const t = (await srv.api('POST', TT, { token: agent, body: good })).json;
    for (const [body, field] of [[{ priority: 'Urgent' }, 'priority'], [{ id: '7' }, 'id'], [{ stage: 'done' }, 'stage'],
                                 [{ step: 'locate' }, 'step'], [{ stage: 'pending', status: 'pending' }, 'status'], [{}, 'body']]) {
      const r = await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body });
      assert.ok(r.status === 400 || r.status === 409, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(r.json.field, field);
    }
    const g = await srv.api('GET', t.href, { token: agent });
    assert.equal(g.json.lastUpdate, t.lastUpdate);
    assert.equal(g.json.statusChange.length, 1);
  });

  test('a PATCH on an unknown id is 404, on a non-numeric id too', async () => {
    assert.equal((await srv.api('PATCH', `${TT}/424242`, { token: agent, body: { priority: 'High' } })).status, 404);
    assert.equal((await srv.api('PATCH', `${TT}/abc`, { token: agent, body: { priority: 'High' } })).status, 404);
  });
});

describe('lists and paging', () => {
  test('filters, paging and stable newest-first ordering', async () => {
    const mk = (extra) => srv.api('POST', TT, { token: agent, body: { ...good, ...extra } });
    const created = [];
    for (let i = 0; i < 7; i++) created.push((await mk({ category: 'paging', area: i % 2 ? 'GD.SZ.NS' : 'GD.GZ.TH', service: i % 3 ? 'tv' : 'mobile' })).json);
    const r1 = await srv.api('GET', `${TT}?category=paging&limit=3`, { token: agent });
    assert.equal(r1.headers.get('x-total-count'), '7');
    assert.equal(r1.headers.get('x-result-count'), '3');
    const seen = [];
    for (let off = 0; off < 7; off += 3) {
      const r = await srv.api('GET', `${TT}?category=paging&limit=3&offset=${off}`, { token: agent });
      seen.push(...r.json.map((t) => t.id));
    }
    assert.deepEqual(seen, created.map((t) => t.id).reverse());
    const sz = await srv.api('GET', `${TT}?category=paging&area=GD.SZ`, { token: agent });
    assert.equal(sz.json.length, 3);
    assert.ok(sz.json.every((t) => t.area.startsWith('GD.SZ')));
    assert.equal((await srv.api('GET', `${TT}?category=paging&area=GD.S`, { token: agent })).json.length, 0);
    const mob = await srv.api('GET', `${TT}?category=paging&service=mobile`, { token: agent });
    assert.equal(mob.json.length, 3);
    const two = await srv.api('GET', `${TT}?category=paging&status=acknowledged,inProgress&ticketType=faultReport`, { token: agent });
    assert.equal(two.json.length, 7);
    const f = await srv.api('GET', `${TT}?category=paging&limit=1&fields=status,stage`, { token: agent });
    assert.deepEqual(Object.keys(f.json[0]).sort(), ['href', 'id', 'stage', 'status']);
  });

  test('time window filters', async () => {
    const t = (await srv.api('POST', TT, { token: agent, body: { ...good, category: 'window' } })).json;
    const at = Date.parse(t.creationDate);
    const iso = (x) => new Date(x).toISOString();
    let r = await srv.api('GET', `${TT}?category=window&createdAfter=${iso(at - 1000)}&createdBefore=${iso(at + 1000)}`, { token: agent });
    assert.equal(r.json.length, 1);
    r = await srv.api('GET', `${TT}?category=window&createdAfter=${iso(at + 1000)}`, { token: agent });
    assert.equal(r.json.length, 0);
    r = await srv.api('GET', `${TT}?category=window&creationDate.lt=${iso(at)}`, { token: agent });
    assert.equal(r.json.length, 0);
  });

  test('bad list parameters name themselves', async () => {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=5000', 'limit'], ['offset=-1', 'offset'], ['status=bogus', 'status'],
                              ['escalated=maybe', 'escalated'], ['createdAfter=yesterday', 'createdAfter'], ['colour=red', 'colour']]) {
      const r = await srv.api('GET', `${TT}?${q}`, { token: agent });
      assert.equal(r.status, 400, q);
      assert.equal(r.json.field, field);
    }
  });

  test('unknown paths are 404, known paths with other methods 405 with Allow', async () => {
    assert.equal((await srv.api('GET', '/api/v1/nothing', { token: agent })).status, 404);
    const r = await srv.api('DELETE', TT, { token: agent });
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow'), /GET/);
  });
});
