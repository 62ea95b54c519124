// The subscriber directory (callers of signals resolved in memory, and the cards the 360 view is
// served from) on a demo operator of 20,000 lines: built from the store at start, and never
// stale — a line moved to another element, a renumbering topology import, a line created since
// the build: the callers of a burst of complaints are always placed where the store says they
// hang, which the incident's suspected element (their lowest common upstream element) shows;
// and after every kind of change the 360 view answered from memory says what the store says.
// On the manual clock.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN_PW } from './server.mjs';

const SP = '/tmf-api/serviceProblemManagement/v4/serviceProblem';
const SUBS = 20000;

let srv, admin, integ, sup, spec;
const metric = async (name) => {
  const text = await (await fetch(`${srv.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
};
const ready = async () => {
  for (let i = 0; i < 300; i++) {
    if ((await metric('shouye_directory_ready')) === 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the directory was not built');
};

before(async () => {
  srv = await startServer({ demoArgs: ['--subscribers', String(SUBS)] });
  admin = await srv.login('admin', ADMIN_PW);
  integ = await srv.login('integration1');
  sup = await srv.login('supervisor1');
  spec = await srv.login('specialist1');
});
after(async () => { await srv.stop(); });

// three demo lines of a district that hang from one amplifier
async function threeOnOneAmp(area) {
  const list = (await srv.api('GET', `/api/v1/subscribers?area=${area}&limit=200`, { token: integ })).json;
  const by = {};
  for (const s of list) (by[s.attachment] ??= []).push(s.msisdn);
  const [amp, lines] = Object.entries(by).find(([, v]) => v.length >= 3);
  return { amp, lines: lines.slice(0, 3) };
}

// a warning line of 3 on the district; 3 complaints; the incident it opens, restored after
async function burst(area, service, lines) {
  const line = await srv.api('POST', '/api/v1/warningLines', { token: sup, body: { name: `${area} ${service}`, service, area, windowMinutes: 10, threshold: 3, level: 3 } });
  assert.equal(line.status, 201, JSON.stringify(line.json));
  const r = await srv.api('POST', '/api/v1/signals', { token: integ, body: { items: lines.map((msisdn) => ({ kind: 'complaint', service, msisdn })) } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.signals, 3);
  const open = (await srv.api('GET', `${SP}?active=true`, { token: sup })).json;
  assert.equal(open.length, 1, 'one incident');
  const [sp] = open;
  assert.equal(sp.origin, 'areaFault');
  assert.equal((await srv.api('PATCH', `${SP}/${sp.id}`, { token: spec, body: { stage: 'restore', statusChangeReason: '测试' } })).status, 200);
  assert.equal((await srv.api('DELETE', `/api/v1/warningLines/${line.json.id}`, { token: sup })).status, 204);
  return sp.suspectedElement;
}

describe('the subscriber directory', () => {
  test('is built from the store at start: every line, in memory', async () => {
    await ready();
    assert.equal(await metric('shouye_directory_subscribers'), SUBS);
    // every line's card is in memory too (profile, plan, balance …, compressed: ~150 bytes)
    assert.ok((await metric('shouye_directory_bytes')) >= SUBS * 64);
  });

  test('callers of a burst are placed where they hang: their amplifier is the suspected element', async () => {
    const { amp, lines } = await threeOnOneAmp('GD.SZ.FT');
    assert.equal(await burst('GD.SZ.FT', 'iptv', lines), amp);
  });

  test('a line moved to another element is placed there at once', async () => {
    const list = (await srv.api('GET', '/api/v1/subscribers?area=GD.SZ.NS&limit=3', { token: integ })).json;
    const target = 'AMP-FT-000-1';
    // a change that does not move the line leaves the directory's entry alone
    const renamed = await srv.api('PATCH', `/api/v1/subscribers/${list[0].msisdn}`, { token: integ, body: { name: '改名用户' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
    assert.equal(await metric('shouye_directory_subscribers'), SUBS, 'not forgotten');
    for (const s of list) {
      assert.notEqual(s.attachment, target);
      const r = await srv.api('PATCH', `/api/v1/subscribers/${s.msisdn}`, { token: integ, body: { attachment: target } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    assert.equal(await metric('shouye_directory_subscribers'), SUBS, 'read again after the commit');
    assert.equal(await burst('GD.SZ.NS', 'broadband', list.map((s) => s.msisdn)), target);
  });

  test('a topology import that renumbers the tree builds it again', async () => {
    const { amp, lines } = await threeOnOneAmp('GD.SZ.LG');
    const r = await srv.api('PUT', '/api/v1/topology', { token: integ, body: { elements: [
      { id: 'ON-AA-001', parent: 'HE-SZ', kind: 'opticalNode', name: '测试光机', network: 'cable', area: 'GD.SZ.LG' },
    ] } });
    assert.equal(r.status, 200, JSON.stringify(r.json) + srv.log().slice(-2000));
    assert.ok(r.json.renumbered > 0, 'positions moved');
    await ready(); // (events reach the directory before the import is answered)
    assert.equal(await metric('shouye_directory_subscribers'), SUBS, 'the moved lines are back, where they hang now');
    assert.equal(await burst('GD.SZ.LG', 'tv', lines), amp);
  });

  test('a line created since the build is known at once; an unknown number still counts', async () => {
    for (const [i, msisdn] of ['13300000001', '13300000002', '13300000003'].entries()) {
      const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: { msisdn, name: `新用户${i}`, area: 'GD.SZ.BA', attachment: 'AMP-BA-001-2' } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    assert.equal(await metric('shouye_directory_subscribers'), SUBS + 3);
    assert.equal(await burst('GD.SZ.BA', 'voice', ['13300000001', '13300000002', '13300000003']), 'AMP-BA-001-2');
    const r = await srv.api('POST', '/api/v1/signals', { token: integ, body: { items: [{ kind: 'faultReport', service: 'voice', msisdn: '13399999999' }] } });
    assert.equal(r.status, 200);
    assert.equal(r.json.signals, 1);
  });

  test('after every kind of change the 360 view from memory says what the store says', async () => {
    await ready();
    const agent = await srv.login('agent1');
    const [{ msisdn: m }] = (await srv.api('GET', '/api/v1/subscribers?area=GD.GZ.TH&limit=1', { token: integ })).json;
    const base = `/api/v1/subscribers/${m}`;
    let line = null;
    // the overview (cards) against the resources that read the store
    const agree = async (what) => {
      const ov = (await srv.api('GET', `${base}/overview`, { token: agent })).json;
      assert.deepEqual(ov.profile, (await srv.api('GET', base, { token: agent })).json, `${what}: profile`);
      assert.deepEqual(ov.products, (await srv.api('GET', `${base}/products`, { token: agent })).json, `${what}: products`);
      assert.deepEqual(ov.vas, (await srv.api('GET', `${base}/vas`, { token: agent })).json, `${what}: vas`);
      const { status, ...balance } = (await srv.api('GET', `${base}/balance`, { token: agent })).json;
      assert.deepEqual(ov.balance, balance, `${what}: balance`);
      assert.equal(ov.profile.status, status, `${what}: status`);
      assert.deepEqual(ov.line, line, `${what}: line`);
      return ov;
    };
    await agree('as built');
    const ok = async (r, code = 200) => { assert.equal(r.status, code, JSON.stringify(r.json)); return r.json; };
    await ok(await srv.api('PATCH', base, { token: integ, body: { name: '卡片测试', level: 'gold', address: '广东省广州市天河区体育西路1号' } }));
    assert.equal((await agree('renamed')).profile.level, 'gold');
    await ok(await srv.api('POST', `${base}/charges`, { token: integ, body: { amountFen: 99999900 } }));
    assert.equal((await agree('charged into arrears')).profile.status, 'suspended');
    await ok(await srv.api('POST', `${base}/payments`, { token: agent, body: { amountFen: 99999900 } }));
    assert.equal((await agree('paid')).profile.status, 'active');
    await ok(await srv.api('POST', `${base}/products`, { token: agent, body: { offer: 'K10G' } }), 201);
    assert.ok((await agree('pack ordered')).products.some((p) => p.offer === 'K10G'));
    await ok(await srv.api('POST', `${base}/vas`, { token: agent, body: { vas: 'V-CLIP' } }), 201);
    assert.equal((await agree('VAS subscribed')).vas.length, 1);
    line = await ok(await srv.api('PUT', `${base}/line`, { token: integ, body: { online: false, signalDbm: -101, terminal: '华为 WS7200' } }));
    assert.equal((await agree('line reported')).line.signalDbm, -101);
    // work orders: a new one is open at once; resolved, it is open no more
    const TT = '/tmf-api/troubleTicket/v4/troubleTicket';
    const tickets = [];
    for (let i = 0; i < 3; i++)
      tickets.push(await ok(await srv.api('POST', TT, { token: agent, body: { description: `卡片投诉${i}`, severity: 'Minor', ticketType: 'complaint', category: '网速慢', relatedParty: [{ id: m, role: 'customer' }] } }), 201));
    let wo = await agree('work orders created');
    assert.deepEqual(wo.openWorkOrders.map((t) => t.id).sort(), tickets.map((t) => t.id).sort());
    assert.equal(wo.workOrderStats.complaintsAndFaults90d, 3);
    await ok(await srv.api('PATCH', `${TT}/${tickets[0].id}`, { token: agent, body: { stage: 'resolvedAtFirstLine', statusChangeReason: '已解释' } }));
    wo = await agree('a work order resolved');
    assert.equal(wo.openWorkOrders.length, 2);
    const stored = (await srv.api('GET', `${TT}/${tickets[0].id}`, { token: agent })).json;
    assert.equal(wo.recentWorkOrders.find((t) => t.id === tickets[0].id).status, stored.status);
    // segments are recomputed for everyone: the cards are built again (the store answers meanwhile)
    await ok(await srv.api('POST', '/api/v1/segments/refresh', { token: sup }));
    await ready();
    const ov = await agree('segments refreshed');
    assert.ok(ov.segments.some((s) => s.segment === 'complaintHeavy'), JSON.stringify(ov.segments));
    assert.equal(ov.recentWorkOrders.length, 3);
    assert.equal(ov.workOrderStats.complaintsAndFaults90d, 3);
  });
});

describe('with subscriber_cards = off', () => {
  let off;
  before(async () => {
    off = await startServer({ demoArgs: ['--subscribers', '2000', '--tickets', '2000'], extraArgs: ['--subscriber-cards', 'off'] });
  });
  after(async () => { await off.stop(); });

  test('only where lines hang is in memory; the overview reads the store and says the same', async () => {
    const m = async (name) => {
      const text = await (await fetch(`${off.base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name + ' '));
      return line ? Number(line.split(' ')[1]) : NaN;
    };
    for (let i = 0; i < 300 && (await m('shouye_directory_ready')) !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await m('shouye_directory_subscribers'), 2000);
    assert.ok((await m('shouye_directory_bytes')) < 2000 * 100, 'slots only, no cards');
    const agent = await off.login('agent1');
    const list = (await off.api('GET', '/api/v1/subscribers?limit=5', { token: agent })).json;
    for (const { msisdn } of list) {
      const base = `/api/v1/subscribers/${msisdn}`;
      await off.api('POST', `${base}/payments`, { token: agent, body: { amountFen: 1234 } });
      const ov = (await off.api('GET', `${base}/overview`, { token: agent })).json;
      assert.deepEqual(ov.profile, (await off.api('GET', base, { token: agent })).json);
      assert.deepEqual(ov.products, (await off.api('GET', `${base}/products`, { token: agent })).json);
      const { status, ...balance } = (await off.api('GET', `${base}/balance`, { token: agent })).json;
      assert.deepEqual(ov.balance, balance);
      assert.equal(ov.profile.status, status);
    }
  });
});
