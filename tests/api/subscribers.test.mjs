// Subscribers (C1): profiles, finding a caller by part of the number, masking by role with
// every full view audited, and the service password check with its limit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN_PW } from './server.mjs';

let srv, integ, agent, sup;
before(async () => {
  srv = await startServer();
  integ = await srv.login('integration1');
  agent = await srv.login('agent1');
  sup = await srv.login('supervisor1');
});
after(async () => { await srv.stop(); });

const profile = (msisdn, extra = {}) => ({
  msisdn, name: '王建国', accountId: 'ACC-0001', idType: 'idCard', idNumber: '440301198805061234',
  address: '广东省深圳市南山区科技园路88号3栋1201', contacts: [{ name: '王太太', phone: '13900001111', relation: '配偶' }],
  servicePassword: '246810', level: 'gold', vip: true, points: 12800, area: 'GD.SZ.NS', attachment: 'ON-NS-017', ...extra,
});

describe('subscriber profiles', () => {
  test('created by an integration client; the answer is masked and carries no password', async () => {
    const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: profile('13800138000') });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.headers.get('location'), '/api/v1/subscribers/13800138000');
    assert.equal(r.json.idNumber, '440301********1234');
    assert.equal(r.json.address, '广东省深圳市****');
    assert.equal(r.json.contacts[0].phone, '139****1111');
    assert.equal(r.json.hasServicePassword, true);
    assert.ok(!JSON.stringify(r.json).includes('246810'));
    assert.equal((await srv.api('POST', '/api/v1/subscribers', { token: integ, body: profile('8613800138000') })).status, 409);
  });

  test('an agent sees the profile masked, a supervisor in full and the full view is audited', async () => {
    const a = await srv.api('GET', '/api/v1/subscribers/13800138000', { token: agent });
    assert.equal(a.status, 200);
    assert.equal(a.json.masked, true);
    assert.equal(a.json.idNumber, '440301********1234');
    const s = await srv.api('GET', '/api/v1/subscribers/13800138000', { token: sup });
    assert.equal(s.json.masked, false);
    assert.equal(s.json.idNumber, '440301198805061234');
    assert.equal(s.json.address, '广东省深圳市南山区科技园路88号3栋1201');
    const audit = await srv.api('GET', '/api/v1/audit?entityType=subscriber&entityId=13800138000&action=view', { token: sup });
    assert.equal(audit.json.length, 1);
    assert.equal(audit.json[0].actor, 'supervisor1');
    const none = await srv.api('GET', '/api/v1/audit?entityType=subscriber&action=view&actor=agent1', { token: sup });
    assert.equal(none.json.length, 0, 'masked views are not full views');
    const audited = await srv.api('GET', '/api/v1/audit?entityType=subscriber&entityId=13800138000&action=create', { token: sup });
    assert.ok(!JSON.stringify(audited.json).includes('19880506'), 'the audit keeps the masked view');
  });

  test('bad input is refused naming the field', async () => {
    for (const [body, field] of [[profile('12345'), 'msisdn'], [profile('13800138009', { servicePassword: '12ab56' }), 'servicePassword'],
                                 [profile('13800138009', { level: 'platinum' }), 'level'], [profile('13800138009', { area: 'GD SZ' }), 'area'],
                                 [profile('13800138009', { contacts: [{ name: 'x' }] }), 'contacts[0].phone'], [{ msisdn: '13800138009' }, 'name']]) {
      const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.field, field);
    }
    assert.equal((await srv.api('POST', '/api/v1/subscribers', { token: agent, body: profile('13800138010') })).status, 403);
  });

  test('changes are audited before and after', async () => {
    const r = await srv.api('PATCH', '/api/v1/subscribers/13800138000', { token: sup, body: { level: 'diamond', points: 20000 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.level, 'diamond');
    const a = await srv.api('GET', '/api/v1/audit?entityType=subscriber&entityId=13800138000&action=update', { token: sup });
    assert.equal(a.json[0].before.level, 'gold');
    assert.equal(a.json[0].after.level, 'diamond');
    assert.equal((await srv.api('PATCH', '/api/v1/subscribers/13999999999', { token: sup, body: { points: 1 } })).status, 404);
  });
});

describe('finding a caller', () => {
  test('by the first digits of the number, by area and level; lists are masked', async () => {
    for (const [n, area, level] of [['13800138001', 'GD.SZ.FT', 'normal'], ['13800138002', 'GD.GZ.TH', 'silver'], ['13900139000', 'GD.SZ.NS', 'normal']])
      assert.equal((await srv.api('POST', '/api/v1/subscribers', { token: integ, body: profile(n, { area, level, servicePassword: undefined }) })).status, 201);
    let r = await srv.api('GET', '/api/v1/subscribers?number=1380013800', { token: agent });
    assert.deepEqual(r.json.map((s) => s.msisdn), ['13800138000', '13800138001', '13800138002']);
    assert.equal(r.headers.get('x-total-count'), '3');
    assert.ok(r.json.every((s) => s.masked));
    r = await srv.api('GET', '/api/v1/subscribers?number=139', { token: agent });
    assert.deepEqual(r.json.map((s) => s.msisdn), ['13900139000']);
    r = await srv.api('GET', '/api/v1/subscribers?area=GD.SZ', { token: agent });
    assert.equal(r.json.length, 3);
    r = await srv.api('GET', '/api/v1/subscribers?area=GD.SZ&level=normal', { token: agent });
    assert.deepEqual(r.json.map((s) => s.msisdn), ['13800138001', '13900139000']);
    assert.equal((await srv.api('GET', '/api/v1/subscribers?number=13x', { token: agent })).status, 400);
  });
});

describe('the service password', () => {
  test('right and wrong answers, then a limit per number', async () => {
    const v = (pw, n = '13800138000') => srv.api('POST', `/api/v1/subscribers/${n}/verify`, { token: agent, body: { servicePassword: pw } });
    let r = await v('246810');
    assert.equal(r.status, 200);
    assert.equal(r.json.verified, true);
    r = await v('000000');
    assert.equal(r.json.verified, false);
    assert.equal(r.json.remainingTries, 4);
    for (let i = 0; i < 4; i++) await v('000000');
    r = await v('246810');
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    // another number is not affected; a number without a password never verifies
    r = await v('246810', '13800138001');
    assert.equal(r.json.verified, false);
    assert.equal((await v('1', '13999999999')).status, 404);
  });
});

describe('the SMS verification code', () => {
  const send = (n = '13800138001') => srv.api('POST', `/api/v1/subscribers/${n}/verificationCode`, { token: agent });
  const check = (code, n = '13800138001') => srv.api('POST', `/api/v1/subscribers/${n}/verificationCode/check`, { token: agent, body: { code } });
  const lastCode = (n = '13800138001') => srv.sql(`SELECT body FROM outbox WHERE recipient = '${n}' AND template = 'subscriber.verificationCode' ORDER BY id DESC LIMIT 1`).match(/(\d{6})/)[1];

  test('a code is sent by SMS, works once, and is never shown in the API', async () => {
    const r = await send();
    assert.equal(r.status, 202);
    assert.equal(r.json.sentTo, '138****8001');
    const code = lastCode();
    const listed = await srv.api('GET', '/api/v1/notifications?template=subscriber.verificationCode', { token: sup });
    assert.ok(!JSON.stringify(listed.json).includes(code), 'the list masks the code');
    assert.equal((await check(code === '000000' ? '000001' : '000000')).json.verified, false);
    const ok = await check(code);
    assert.equal(ok.json.verified, true);
    assert.equal((await check(code)).json.verified, false, 'a code works once');
  });

  test('one a minute per number; five wrong tries and the code is spent; it expires after 5 minutes', async () => {
    const admin = await srv.login('admin', ADMIN_PW);
    assert.equal((await send()).status, 429);
    await srv.advance(admin, 61000);
    assert.equal((await send()).status, 202);
    const code = lastCode();
    const wrong = code === '111111' ? '222222' : '111111';
    let r;
    for (let i = 0; i < 5; i++) r = await check(wrong);
    assert.equal(r.json.remainingTries, 0);
    r = await check(code);
    assert.equal(r.json.verified, false);
    assert.match(r.json.reason, /no tries left/);
    await srv.advance(admin, 61000);
    assert.equal((await send()).status, 202);
    await srv.advance(admin, 5 * 60000 + 1000);
    r = await check(lastCode());
    assert.equal(r.json.verified, false);
    assert.match(r.json.reason, /expired/);
  });

  test('a bad code is 400 naming it; an unknown number 404', async () => {
    const r = await check('12ab');
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'code');
    assert.equal((await send('13999999999')).status, 404);
  });
});

describe('the 360 view and TMF629', () => {
  test('the overview shows the masked profile and the open and recent work orders', async () => {
    const TT = '/tmf-api/troubleTicket/v4/troubleTicket';
    const party = [{ id: '13800138002', role: 'customer' }];
    const a = (await srv.api('POST', TT, { token: agent, body: { description: '网速慢', severity: 'Minor', ticketType: 'complaint', category: '网速慢', relatedParty: party } })).json;
    const b = (await srv.api('POST', TT, { token: agent, body: { description: '咨询套餐', severity: 'Minor', ticketType: 'consultation', relatedParty: party } })).json;
    await srv.api('PATCH', `${TT}/${b.id}`, { token: agent, body: { stage: 'resolvedAtFirstLine' } });
    const r = await srv.api('GET', '/api/v1/subscribers/13800138002/overview', { token: agent });
    assert.equal(r.status, 200);
    assert.equal(r.json.profile.masked, true);
    assert.deepEqual(r.json.openWorkOrders.map((t) => t.id), [a.id]);
    assert.deepEqual(r.json.recentWorkOrders.map((t) => t.id), [b.id, a.id]);
    assert.equal(r.json.workOrderStats.complaintsAndFaults90d, 1);
    assert.equal((await srv.api('GET', '/api/v1/subscribers/13999999999/overview', { token: agent })).status, 404);
  });

  test('TMF629 customers for integrators, masked, with the number as id', async () => {
    const r = await srv.api('GET', '/tmf-api/customerManagement/v4/customer/13800138000', { token: integ });
    assert.equal(r.status, 200);
    assert.equal(r.json['@type'], 'Customer');
    assert.equal(r.json.id, '13800138000');
    assert.equal(r.json.contactMedium[0].characteristic.phoneNumber, '13800138000');
    assert.ok(r.json.characteristic.some((c) => c.name === 'level'));
    assert.ok(!JSON.stringify(r.json).includes('科技园路88号'), 'the address is masked');
    const l = await srv.api('GET', '/tmf-api/customerManagement/v4/customer?number=13800', { token: integ });
    assert.ok(l.json.length >= 3 && l.json.every((c) => c['@type'] === 'Customer'));
    assert.equal((await srv.api('GET', '/tmf-api/customerManagement/v4/customer', { token: agent })).status, 403);
  });
});

describe('tariffs: one base plan, packs, exclusive activities', () => {
  const P = '/api/v1/subscribers/13800138001/products';
  const order = (offer) => srv.api('POST', P, { token: agent, body: { offer } });
  test('the demo catalogue lists plans, packs and activities', async () => {
    const r = await srv.api('GET', '/api/v1/offers?kind=basePlan', { token: agent });
    assert.deepEqual(r.json.map((o) => o.id).sort(), ['P4G58', 'P5G128', 'PFUSION199']);
    const all = await srv.api('GET', '/api/v1/offers', { token: agent });
    assert.deepEqual(all.json.find((o) => o.id === 'A-HEYUEJI').excludes, ['A-CUNFEI']);
  });

  test('a pack needs a base plan; a new base plan replaces the old one', async () => {
    let r = await order('K10G');
    assert.equal(r.status, 409);
    assert.match(r.json.message, /base plan/);
    r = await order('P4G58');
    assert.equal(r.status, 201, JSON.stringify(r.json));
    r = await order('K10G');
    assert.equal(r.status, 201);
    r = await order('P5G128');
    assert.equal(r.status, 201);
    const held = (await srv.api('GET', P, { token: agent })).json;
    assert.deepEqual(held.filter((p) => p.kind === 'basePlan').map((p) => p.offer), ['P5G128']);
    assert.ok(held.some((p) => p.offer === 'K10G'));
    assert.equal((await order('K10G')).status, 409, 'already held');
  });

  test('an activity that excludes a current one is refused naming both', async () => {
    assert.equal((await order('A-CUNFEI')).status, 201);
    const r = await order('A-HEYUEJI');
    assert.equal(r.status, 409);
    assert.match(r.json.message, /A-HEYUEJI/);
    assert.match(r.json.message, /A-CUNFEI/);
    assert.match(r.json.message, /互斥/);
    const held = (await srv.api('GET', P, { token: agent })).json;
    assert.ok(!held.some((p) => p.offer === 'A-HEYUEJI'), 'nothing was ordered');
  });

  test('ending a pack works; ending the base plan is refused; unknown offers name the field', async () => {
    const held = (await srv.api('GET', P, { token: agent })).json;
    const pack = held.find((p) => p.offer === 'K10G');
    const plan = held.find((p) => p.kind === 'basePlan');
    assert.equal((await srv.api('DELETE', `${P}/${pack.id}`, { token: agent })).status, 204);
    assert.equal((await srv.api('DELETE', `${P}/${pack.id}`, { token: agent })).status, 404);
    const r = await srv.api('DELETE', `${P}/${plan.id}`, { token: agent });
    assert.equal(r.status, 409);
    assert.match(r.json.message, /exactly one base plan/);
    const bad = await order('NOPE');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'offer');
    const ov = await srv.api('GET', '/api/v1/subscribers/13800138001/overview', { token: agent });
    assert.equal(ov.json.products.filter((p) => p.kind === 'basePlan').length, 1);
    const audit = await srv.api('GET', '/api/v1/audit?entityType=subscriber&entityId=13800138001&action=order', { token: sup });
    assert.ok(audit.json.length >= 4);
  });
});

describe('balance, arrears and the line', () => {
  const N = '13800138002';
  const pay = (fen) => srv.api('POST', `/api/v1/subscribers/${N}/payments`, { token: agent, body: { amountFen: fen, channel: 'counter' } });
  const charge = (fen) => srv.api('POST', `/api/v1/subscribers/${N}/charges`, { token: integ, body: { amountFen: fen, item: '月租' } });
  const sms = async (template) => (await srv.api('GET', `/api/v1/notifications?recipient=${N}&template=${template}`, { token: sup })).json;

  test('a payment and charges move the balance; under 10 元 the customer is reminded once', async () => {
    let r = await pay(5000);
    assert.equal(r.status, 200);
    assert.equal(r.json.freeFen, 5000);
    assert.equal(r.json.available, '50.00');
    r = await charge(4200);
    assert.equal(r.json.availableFen, 800);
    assert.equal((await sms('subscriber.lowBalance')).length, 1);
    r = await charge(100);
    assert.equal((await sms('subscriber.lowBalance')).length, 1, 'reminded once, not at every charge');
    assert.equal(r.json.status, 'active');
  });

  test('a charge past the credit limit stops the line; a payment that covers it reopens it', async () => {
    let r = await charge(2000);
    assert.equal(r.json.availableFen, -1300);
    assert.equal(r.json.status, 'suspended');
    const stopped = await sms('subscriber.stopped');
    assert.equal(stopped.length, 1);
    assert.ok(stopped[0].body.includes('13.00'));
    r = await pay(1000);
    assert.equal(r.json.status, 'suspended', 'still in arrears');
    r = await pay(500);
    assert.equal(r.json.status, 'active');
    assert.equal((await sms('subscriber.reopened')).length, 1);
    const ev = (await srv.events(sup)).filter((e) => e.entityId === N).map((e) => e.type);
    assert.ok(ev.includes('subscriber.stoppedForArrears') && ev.includes('subscriber.reopened'));
    const audit = await srv.api('GET', `/api/v1/audit?entityType=subscriber&entityId=${N}&action=stopForArrears`, { token: sup });
    assert.equal(audit.json.length, 1);
  });

  test('bad amounts name the field; agents may not charge; an unknown number is 404', async () => {
    let r = await pay(0);
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'amountFen');
    r = await srv.api('POST', `/api/v1/subscribers/${N}/charges`, { token: agent, body: { amountFen: 1 } });
    assert.equal(r.status, 403);
    r = await srv.api('POST', '/api/v1/subscribers/13999999999/payments', { token: agent, body: { amountFen: 100 } });
    assert.equal(r.status, 404);
  });

  test('line state from terminal management shows in the overview', async () => {
    let r = await srv.api('PUT', `/api/v1/subscribers/${N}/line`, { token: integ, body: { online: false, signalDbm: -97, terminal: 'Huawei Mate 60' } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.online, false);
    r = await srv.api('PUT', `/api/v1/subscribers/${N}/line`, { token: integ, body: { online: true, signalDbm: -70 } });
    assert.equal(r.json.terminal, 'Huawei Mate 60', 'a reading without terminal keeps the known one');
    r = await srv.api('PUT', `/api/v1/subscribers/${N}/line`, { token: integ, body: { online: true, signalDbm: 20 } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'signalDbm');
    const ov = (await srv.api('GET', `/api/v1/subscribers/${N}/overview`, { token: agent })).json;
    assert.equal(ov.line.online, true);
    assert.equal(ov.line.signalDbm, -70);
    assert.equal(ov.balance.availableFen, 200);
  });
});

describe('focus segments', () => {
  test('complaint-heavy, high-value and churn-risk, each with a score and reasons', async () => {
    const TT = '/tmf-api/troubleTicket/v4/troubleTicket';
    const N = '13800138000';
    const party = [{ id: N, role: 'customer' }];
    for (let i = 0; i < 3; i++)
      await srv.api('POST', TT, { token: agent, body: { description: `第${i + 1}次投诉网速慢`, severity: 'Minor', ticketType: 'complaint', category: '网速慢', relatedParty: party } });
    await srv.api('POST', `/api/v1/subscribers/${N}/products`, { token: agent, body: { offer: 'P5G128' } });
    await srv.api('POST', `/api/v1/subscribers/${N}/payments`, { token: agent, body: { amountFen: 100 } });
    await srv.api('POST', `/api/v1/subscribers/${N}/charges`, { token: integ, body: { amountFen: 500 } });
    const r = await srv.api('POST', '/api/v1/segments/refresh', { token: sup });
    assert.equal(r.status, 200);
    assert.ok(r.json.complaintHeavy >= 1 && r.json.highValue >= 1 && r.json.churnRisk >= 1, JSON.stringify(r.json));
    const ov = (await srv.api('GET', `/api/v1/subscribers/${N}/overview`, { token: agent })).json;
    const seg = Object.fromEntries(ov.segments.map((s) => [s.segment, s]));
    assert.ok(seg.complaintHeavy.score >= 3);
    assert.equal(seg.highValue.score, 12800);
    assert.equal(seg.churnRisk.score, 100);
    assert.deepEqual(seg.churnRisk.reasons, ['complaints90d', 'stoppedForArrears', 'inArrears', 'repeatComplaint']);
    const list = await srv.api('GET', '/api/v1/subscribers?segment=churnRisk', { token: agent });
    assert.ok(list.json.some((s) => s.msisdn === N));
    assert.equal((await srv.api('GET', '/api/v1/subscribers?segment=vip', { token: agent })).status, 400);
    assert.equal((await srv.api('POST', '/api/v1/segments/refresh', { token: agent })).status, 403);
  });
});

describe('value-added services', () => {
  const N = '13900139000';
  const V = `/api/v1/subscribers/${N}/vas`;
  const sub = (vas, params) => srv.api('POST', V, { token: agent, body: params ? { vas, params } : { vas } });
  test('the catalogue is a tree of categories and services', async () => {
    const r = await srv.api('GET', '/api/v1/vas', { token: agent });
    const comm = r.json.find((c) => c.id === 'V-COMM');
    assert.equal(comm.kind, 'category');
    assert.deepEqual(comm.children.map((c) => c.id), ['V-FAMILY', 'V-FORWARD', 'V-CLIP']);
  });

  test('family numbers and call forwarding are checked; a service is held once', async () => {
    for (const [vas, params, field] of [
      ['V-FAMILY', { numbers: [] }, 'params.numbers'], ['V-FAMILY', { numbers: ['123'] }, 'params.numbers[0]'],
      ['V-FAMILY', { numbers: [N] }, 'params.numbers[0]'], ['V-FAMILY', { numbers: ['13900001111', '13900001111'] }, 'params.numbers[1]'],
      ['V-FAMILY', { numbers: ['13900001111', '13900001112', '13900001113', '13900001114'] }, 'params.numbers'],
      ['V-FORWARD', { forwardTo: '13900001111', condition: 'sometimes' }, 'params.condition'],
      ['V-FORWARD', { forwardTo: N, condition: 'busy' }, 'params.forwardTo'],
      ['V-CLIP', { x: 1 }, 'params'], ['V-COMM', undefined, 'vas']]) {
      const r = await sub(vas, params);
      assert.equal(r.status, 400, `${vas} ${JSON.stringify(params)}`);
      assert.equal(r.json.field, field);
    }
    let r = await sub('V-FAMILY', { numbers: ['13900001111', '13900001112'] });
    assert.equal(r.status, 201);
    r = await sub('V-FORWARD', { forwardTo: '13900001111', condition: 'noAnswer' });
    assert.equal(r.status, 201);
    assert.equal((await sub('V-FORWARD', { forwardTo: '13900001112', condition: 'busy' })).status, 409);
    const held = (await srv.api('GET', V, { token: agent })).json;
    assert.deepEqual(held.map((v) => v.vas), ['V-FAMILY', 'V-FORWARD']);
    assert.deepEqual(held[0].params.numbers, ['13900001111', '13900001112']);
    assert.equal((await srv.api('DELETE', `${V}/${held[1].id}`, { token: agent })).status, 204);
    assert.equal((await srv.api('DELETE', `${V}/${held[1].id}`, { token: agent })).status, 404);
    const ov = (await srv.api('GET', `/api/v1/subscribers/${N}/overview`, { token: agent })).json;
    assert.deepEqual(ov.vas.map((v) => v.vas), ['V-FAMILY']);
  });
});

describe('bills and detail records (demo source)', () => {
  const N = '13900139000';
  test('six monthly bills as trees whose items add up, the same on every ask', async () => {
    const r = await srv.api('GET', `/api/v1/subscribers/${N}/bills`, { token: agent });
    assert.equal(r.status, 200);
    assert.equal(r.json.length, 6);
    const sum = (items) => items.reduce((a, i) => a + i.amountFen, 0);
    for (const b of r.json) {
      assert.equal(b.source, 'demo');
      assert.equal(sum(b.items), b.totalFen);
      for (const i of b.items) if (i.items.length) assert.equal(sum(i.items), i.amountFen);
    }
    const months = r.json.map((b) => b.month);
    assert.deepEqual(months, [...months].sort().reverse());
    assert.deepEqual((await srv.api('GET', `/api/v1/subscribers/${N}/bills`, { token: agent })).json, r.json);
    assert.equal((await srv.api('GET', `/api/v1/subscribers/${N}/bills?months=2`, { token: agent })).json.length, 2);
    assert.equal((await srv.api('GET', `/api/v1/subscribers/${N}/bills?months=7`, { token: agent })).status, 400);
  });

  test('records page backwards in time without gaps or repeats, and filter by type', async () => {
    const all = [];
    let before = null;
    for (let page = 0; page < 5; page++) {
      const r = await srv.api('GET', `/api/v1/subscribers/${N}/records?limit=20${before ? `&before=${encodeURIComponent(before)}` : ''}`, { token: agent });
      assert.equal(r.status, 200);
      all.push(...r.json);
      before = r.headers.get('x-next-before');
      if (!before) break;
    }
    assert.ok(all.length >= 40);
    const times = all.map((x) => x.timeMs);
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.equal(new Set(times).size, times.length, 'no record twice');
    const calls = await srv.api('GET', `/api/v1/subscribers/${N}/records?type=call&limit=30`, { token: agent });
    assert.ok(calls.json.every((x) => x.type === 'call' && x.seconds > 0));
    assert.equal((await srv.api('GET', `/api/v1/subscribers/${N}/records?type=fax`, { token: agent })).status, 400);
  });
});

describe('topology', () => {
  test('the demo province: areas, cable and mobile trees, and who hangs under an element', async () => {
    const areas = (await srv.api('GET', '/api/v1/areas', { token: agent })).json;
    assert.equal(areas[0].code, 'GD');
    const sz = areas[0].children.find((c) => c.code === 'GD.SZ');
    assert.ok(sz.children.some((d) => d.code === 'GD.SZ.NS' && d.children.length === 4));
    const roots = (await srv.api('GET', '/api/v1/elements', { token: agent })).json;
    assert.deepEqual(roots.map((e) => e.id), ['CABLE', 'MOBILE']);
    const heads = await srv.api('GET', '/api/v1/elements?parent=CABLE', { token: agent });
    assert.equal(heads.headers.get('x-total-count'), '6');
    // attach two subscribers under one amplifier and count them from the node above
    await srv.sql("UPDATE subscribers SET attachment = 'AMP-NS-017-2', attach_pos = (SELECT pos FROM elements WHERE id = 'AMP-NS-017-2') WHERE msisdn IN ('13800138000', '13800138001')");
    const node = (await srv.api('GET', '/api/v1/elements/ON-NS-017', { token: agent })).json;
    assert.equal(node.kind, 'opticalNode');
    assert.equal(node.children, 4);
    // the API keeps attach_pos with the attachment: lines attached to the node or its amplifiers
    const n17 = Number(srv.sql("SELECT COUNT(*) FROM subscribers WHERE attachment IN ('ON-NS-017', 'AMP-NS-017-1', 'AMP-NS-017-2', 'AMP-NS-017-3', 'AMP-NS-017-4')"));
    assert.ok(n17 >= 2);
    assert.equal(node.subscribersUnder, n17);
    assert.equal((await srv.api('GET', '/api/v1/elements/AMP-NS-017-2', { token: agent })).json.subscribersUnder, 2);
    assert.deepEqual(node.path.map((p) => p.id), ['CABLE', 'HE-SZ']);
    const head = (await srv.api('GET', '/api/v1/elements/HE-SZ', { token: agent })).json;
    assert.equal(head.subscribersUnder, n17);
    assert.equal((await srv.api('GET', '/api/v1/elements/ON-XX-999', { token: agent })).status, 404);
  });
});
