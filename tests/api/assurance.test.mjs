// Proactive assurance (A2, A3, A4, A5, A7, A8, A9, T6): an optical node fails, its alarm opens
// exactly one level-2 incident with the node as suspected cause and the broadband plan started;
// the subscribers under it — and only they — get one SMS each, VIPs first, held over quiet
// hours; a caller under it sees the incident and their complaint attaches; the alarm clears,
// the incident is restored, the attached work order is closed and everyone told gets the
// restore message. Then a burst of complaints under another node crosses a warning line and
// the incident names their lowest common upstream element. All on the manual clock.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN_PW, TT, MIN } from './server.mjs';

const SP = '/tmf-api/serviceProblemManagement/v4/serviceProblem';
const AL = '/tmf-api/alarmManagement/v4/alarm';
const HOUR = 60 * MIN;

let srv, admin, integ, agent, sup, spec;
before(async () => {
  srv = await startServer();
  admin = await srv.login('admin', ADMIN_PW);
  integ = await srv.login('integration1');
  agent = await srv.login('agent1');
  sup = await srv.login('supervisor1');
  spec = await srv.login('specialist1');
});
after(async () => { await srv.stop(); });

// under ON-NS-017 (its four amplifiers): 8 lines; under ON-NS-018: 3 lines
const under17 = [
  ['13700000001', 'normal', false, 'AMP-NS-017-1'],
  ['13700000002', 'diamond', true, 'AMP-NS-017-2'],
  ['13700000003', 'silver', false, 'AMP-NS-017-3'],
  ['13700000004', 'gold', true, 'AMP-NS-017-4'],
  ['13700000005', 'normal', false, 'AMP-NS-017-1', true], // opted out of proactive SMS
  ['13700000006', 'gold', false, 'AMP-NS-017-2'],
  ['13700000007', 'normal', false, 'AMP-NS-017-3'],
  ['13700000008', 'silver', false, 'ON-NS-017'],
];
const under18 = [
  ['13700000011', 'diamond', true, 'AMP-NS-018-1'],
  ['13700000012', 'normal', false, 'AMP-NS-018-2'],
  ['13700000013', 'normal', false, 'AMP-NS-018-3'],
];

const alarm = (object, extra = {}) => ({
  alarmType: 'communicationsAlarm', perceivedSeverity: 'critical', probableCause: 'lossOfSignal',
  specificProblem: '光机输入光功率过低', alarmedObject: { id: object }, sourceSystemId: 'nms-cable',
  state: 'raised', alarmRaisedTime: new Date(Date.now() - 10 * 60000).toISOString(),
  affectedService: [{ id: 'broadband' }], serviceAffecting: true, ...extra,
});

const clockNow = async () => Date.parse((await srv.api('GET', '/api/v1/admin/clock', { token: admin })).json.now);

describe('an optical node fails', () => {
  let incident, nodeAlarm, ampAlarm, complaint;

  test('subscribers are attached to the network (attachment must be a known element)', async () => {
    for (const [msisdn, level, vip, at, optOut] of [...under17, ...under18]) {
      const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: {
        msisdn, name: `用户${msisdn.slice(-2)}`, level, vip, area: 'GD.SZ.NS', attachment: at, smsOptOut: !!optOut,
      } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    const bad = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: { msisdn: '13700000099', name: 'x', attachment: 'NO-SUCH' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /attachment/);
    const el = await srv.api('GET', '/api/v1/elements/ON-NS-017', { token: agent });
    assert.equal(el.json.subscribersUnder, 8);
  });

  test('the alarm is validated field by field', async () => {
    const r = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-017', { perceivedSeverity: 'terrible' }) });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.json), /perceivedSeverity/);
    const r2 = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-017', { alarmedObject: {} }) });
    assert.equal(r2.status, 400);
    assert.match(JSON.stringify(r2.json), /alarmedObject\.id/);
    const r3 = await srv.api('POST', AL, { token: agent, body: alarm('ON-NS-017') });
    assert.equal(r3.status, 403);
  });

  test('the node alarm opens exactly one level-2 incident with the node as suspected cause', async () => {
    const r = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-017') });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    nodeAlarm = r.json.id;
    assert.equal(r.json.isRootCause, true);
    assert.ok(r.json.serviceProblem, 'the alarm names its incident');
    incident = r.json.serviceProblem.id;
    // the same alarm again is a repeat, not a second alarm
    const again = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-017') });
    assert.equal(again.status, 200);
    assert.equal(again.json.id, nodeAlarm);
    assert.equal(again.json.repeats, 1);
    // an amplifier under it: a symptom, no second incident
    const amp = await srv.api('POST', AL, { token: integ, body: alarm('AMP-NS-017-2', { sourceSystemId: 'nms-cable' }) });
    assert.equal(amp.status, 201);
    ampAlarm = amp.json.id;
    assert.equal(amp.json.isRootCause, false);
    assert.equal(amp.json.parentAlarm[0].id, nodeAlarm);
    const list = await srv.api('GET', `${SP}?active=true`, { token: agent });
    assert.equal(list.json.length, 1);
    const sp = (await srv.api('GET', `${SP}/${incident}`, { token: agent })).json;
    assert.equal(sp.level, 2);
    assert.equal(sp.priority, 2);
    assert.equal(sp.suspectedElement, 'ON-NS-017');
    assert.equal(sp.stage, 'notify');
    assert.equal(sp.affectedNumberOfServices, 8);
    assert.deepEqual(sp.underlyingAlarm.map((a) => a.id).sort(), [nodeAlarm, ampAlarm].sort());
    assert.ok(sp.timeToDetectMs >= 9 * MIN, 'time to detect runs from the alarm raised time');
    // the broadband level-2 plan: a fault ticket dispatched to the broadband group, duty paged
    assert.equal(sp.responsibleParty.id, 'broadband');
    const ft = (await srv.api('GET', `${TT}/${sp.faultTicket.id}`, { token: sup })).json;
    assert.equal(ft.ticketType, 'faultTicket');
    assert.equal(ft.stage, 'dispatched');
    assert.equal(ft.assignedGroup, 'broadband');
    const page = (await srv.api('GET', `/api/v1/notifications?template=incident.page&entityId=${incident}`, { token: admin })).json;
    assert.deepEqual(page.map((n) => n.recipient), ['13900000003']);
  });

  test('its subscribers, and only they, get one SMS each, VIPs first, held over quiet hours', async () => {
    await srv.advance(admin, 1000); // let the background notifier take its turn
    const msgs = (await srv.api('GET', `/api/v1/notifications?template=incident.opened&entityId=${incident}&limit=100`, { token: admin })).json;
    const to = msgs.map((m) => m.recipient);
    const expected = under17.filter((u) => !u[4]).map((u) => u[0]);
    assert.deepEqual([...to].sort(), [...expected].sort(), 'one message per affected subscriber, none to others or the opted-out');
    const byId = [...msgs].sort((a, b) => Number(a.id) - Number(b.id)).map((m) => m.recipient);
    assert.deepEqual(byId.slice(0, 2).sort(), ['13700000002', '13700000004'], 'VIPs first');
    assert.equal(byId[2], '13700000006', 'then gold');
    assert.match(msgs[0].body, /南山区宽带业务因网络故障暂时受影响/);
    // the clock is in quiet hours or not: messages are due at the end of them (08:00 local), or now
    const now = await clockNow();
    const local = new Date(now + 8 * HOUR);
    const quiet = local.getUTCHours() >= 22 || local.getUTCHours() < 8;
    const due = Math.min(...msgs.map((m) => Date.parse(m.nextAttempt ?? m.createdAt)));
    if (quiet) assert.ok(due > now, 'held until quiet hours end');
    // a second pass of the notifier sends nothing twice
    await srv.advance(admin, 1000);
    const again = (await srv.api('GET', `/api/v1/notifications?template=incident.opened&entityId=${incident}&limit=100`, { token: admin })).json;
    assert.equal(again.length, msgs.length);
    // move past quiet hours and let the sender deliver (log adapter)
    await srv.advance(admin, 11 * HOUR);
    for (let i = 0; i < 50; i++) {
      const sent = (await srv.api('GET', `/api/v1/notifications?template=incident.opened&entityId=${incident}&state=sent&limit=100`, { token: admin })).json;
      if (sent.length === msgs.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = (await srv.api('GET', `/api/v1/notifications?template=incident.opened&entityId=${incident}&state=sent&limit=100`, { token: admin })).json;
    assert.equal(sent.length, msgs.length);
  });

  test('a caller under the node sees the incident; one elsewhere does not', async () => {
    const o = await srv.api('GET', '/api/v1/subscribers/13700000001/overview', { token: agent });
    assert.equal(o.status, 200);
    assert.equal(o.json.incidents.length, 1);
    assert.equal(o.json.incidents[0].id, incident);
    assert.ok(o.json.incidents[0].expectedRestoreDate);
    assert.equal(o.json.incidents[0].stageLabel, '通报');
    const other = await srv.api('GET', '/api/v1/subscribers/13700000011/overview', { token: agent });
    assert.deepEqual(other.json.incidents, []);
  });

  test('their complaint attaches to the incident instead of being dispatched', async () => {
    const r = await srv.api('POST', TT, { token: agent, body: {
      description: '家里宽带断了', ticketType: 'faultReport', severity: 'Major', service: 'broadband',
      relatedParty: [{ id: '13700000005', role: 'customer' }],
    } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    complaint = r.json.id;
    assert.equal(r.json.stage, 'pending');
    const rel = r.json.troubleTicketRelationship.find((x) => x.relationshipType === 'attachedToIncident');
    assert.equal(rel.id, incident);
    assert.ok(r.json.note.some((n) => n.visibility === 'customer' && /已知故障/.test(n.text)));
    const elsewhere = await srv.api('POST', TT, { token: agent, body: {
      description: '宽带慢', ticketType: 'faultReport', severity: 'Minor', service: 'broadband',
      relatedParty: [{ id: '13700000012', role: 'customer' }],
    } });
    assert.equal(elsewhere.json.stage, 'new');
    assert.equal((elsewhere.json.troubleTicketRelationship ?? []).length, 0);
    const sp = (await srv.api('GET', `${SP}/${incident}`, { token: agent })).json;
    assert.deepEqual(sp.troubleTicket.map((t) => t.id), [complaint]);
    assert.equal(sp.notifications.promisedOnContact, 1);
  });

  test('clearing the node alarm restores the incident, closes the complaint, tells everyone', async () => {
    const before = await clockNow();
    const r = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-017', { state: 'cleared', perceivedSeverity: 'cleared' }) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.state, 'cleared');
    const sp = (await srv.api('GET', `${SP}/${incident}`, { token: agent })).json;
    assert.equal(sp.stage, 'restore');
    assert.equal(sp.status, 'resolved');
    assert.equal(sp.active, false);
    assert.ok(sp.timeToRestoreMs >= 11 * HOUR);
    assert.ok(Date.parse(sp.resolutionDate) >= before);
    const t = (await srv.api('GET', `${TT}/${complaint}`, { token: agent })).json;
    assert.equal(t.stage, 'closed');
    await srv.advance(admin, 1000);
    const restored = (await srv.api('GET', `/api/v1/notifications?template=incident.restored&entityId=${incident}&limit=100`, { token: admin })).json;
    const told = under17.filter((u) => !u[4]).map((u) => u[0]);
    assert.deepEqual(restored.map((m) => m.recipient).sort(), [...told, '13700000005'].sort(),
      'everyone told on open, and the opted-out caller who was promised a message');
    const o = await srv.api('GET', '/api/v1/subscribers/13700000001/overview', { token: agent });
    assert.deepEqual(o.json.incidents, []);
    // the amplifier alarm clears later: nothing reopens
    const c2 = await srv.api('PATCH', `${AL}/${ampAlarm}`, { token: spec, body: { state: 'cleared' } });
    assert.equal(c2.status, 200);
    assert.equal((await srv.api('GET', `${SP}?active=true`, { token: agent })).json.length, 0);
    // the alarm keeps its history
    const h = (await srv.api('GET', `${AL}/${nodeAlarm}`, { token: agent })).json;
    assert.deepEqual(h.history.map((x) => x.note), ['raised', 'repeat', 'cleared']);
  });

  test('review and close: a supervisor closes with the review text', async () => {
    const noReview = await srv.api('PATCH', `${SP}/${incident}`, { token: sup, body: { stage: 'closed' } });
    assert.equal(noReview.status, 422);
    assert.match(noReview.json.message, /review/);
    const byAgent = await srv.api('PATCH', `${SP}/${incident}`, { token: agent, body: { stage: 'review' } });
    assert.equal(byAgent.status, 403);
    const rv = await srv.api('PATCH', `${SP}/${incident}`, { token: sup, body: { stage: 'review' } });
    assert.equal(rv.status, 200);
    const cl = await srv.api('PATCH', `${SP}/${incident}`, { token: sup, body: { stage: 'closed', review: '光机电源模块故障，已更换；告警到派单 1 分钟。' } });
    assert.equal(cl.status, 200, JSON.stringify(cl.json));
    assert.equal(cl.json.status, 'closed');
    const illegal = await srv.api('PATCH', `${SP}/${incident}`, { token: sup, body: { stage: 'locate' } });
    assert.equal(illegal.status, 409);
  });
});

describe('a burst of complaints crosses a warning line (A3, A7)', () => {
  test('five broadband complaints in 30 minutes under ON-NS-030 open an incident at the node', async () => {
    await srv.advance(admin, 31 * MIN); // the earlier suite's two reports leave the window
    const subs = ['13600000001', '13600000002', '13600000003', '13600000004', '13600000005'];
    for (let i = 0; i < subs.length; i++) {
      const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: {
        msisdn: subs[i], name: `客户${i}`, area: 'GD.SZ.NS', attachment: `AMP-NS-030-${1 + (i % 4)}`,
      } });
      assert.equal(r.status, 201);
    }
    let last;
    for (let i = 0; i < subs.length; i++) {
      await srv.advance(admin, 2 * MIN);
      last = await srv.api('POST', TT, { token: agent, body: {
        description: '宽带无法上网', ticketType: 'complaint', severity: 'Major', service: 'broadband', area: 'GD.SZ.NS',
        relatedParty: [{ id: subs[i], role: 'customer' }],
      } });
      assert.equal(last.status, 201);
      const open = (await srv.api('GET', `${SP}?active=true`, { token: agent })).json;
      assert.equal(open.length, i < 4 ? 0 : 1, `after complaint ${i + 1}`);
    }
    const [sp] = (await srv.api('GET', `${SP}?active=true`, { token: agent })).json;
    assert.equal(sp.origin, 'areaFault');
    assert.equal(sp.suspectedElement, 'ON-NS-030', 'the lowest common upstream element of the reporters');
    assert.equal(sp.level, 2);
    // the complaint that crossed the line is attached to the incident it opened
    assert.equal(last.json.stage, 'pending');
    // a restore by hand closes it
    const r = await srv.api('PATCH', `${SP}/${sp.id}`, { token: spec, body: { stage: 'restore', statusChangeReason: '光机重启后恢复' } });
    assert.equal(r.status, 200);
    assert.equal((await srv.api('GET', `${TT}/${last.json.id}`, { token: agent })).json.stage, 'closed');
  });

  test('incidents by hand: validated, and a second finding on the same node joins it', async () => {
    const bad = await srv.api('POST', SP, { token: sup, body: { category: 'network', description: 'x', priority: 7, reason: 'x', originatorParty: { id: 'supervisor1' } } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /priority/);
    const none = await srv.api('POST', SP, { token: sup, body: { category: 'network', description: 'x', priority: 3, reason: 'x', originatorParty: { id: 'supervisor1' } } });
    assert.equal(none.status, 400);
    const ok = await srv.api('POST', SP, { token: sup, body: {
      category: 'network', description: '福田区基站退服', priority: 3, reason: '基站退服', originatorParty: { id: 'supervisor1' },
      affectedResource: [{ id: 'SITE-FT-03' }], affectedService: [{ id: 'mobile' }],
    } });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    const cell = await srv.api('POST', AL, { token: integ, body: alarm('CELL-FT-03-2', { sourceSystemId: 'nms-mobile', affectedService: [{ id: 'mobile' }] }) });
    assert.equal(cell.status, 201);
    assert.equal(cell.json.serviceProblem.id, ok.json.id, 'joins, no second incident');
    const sp = (await srv.api('GET', `${SP}/${ok.json.id}`, { token: agent })).json;
    assert.equal(sp.level, 2, 'a critical alarm raises the level');
    assert.equal(sp.suspectedElement, 'SITE-FT-03');
  });
});

describe('dial-tests 拨测 (A1)', () => {
  let web, broken = false, port, probe;
  const until = async (fn, what) => {
    for (let i = 0; i < 100; i++) { const v = await fn(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); }
    throw new Error(`timed out waiting for ${what}`);
  };
  before(async () => {
    const http = await import('node:http');
    web = http.createServer((req, res) => {
      if (broken) { res.writeHead(503); res.end('maintenance'); return; }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end('<h1>守夜 IPTV 门户 OK</h1>');
    });
    await new Promise((r) => web.listen(0, '127.0.0.1', r));
    port = web.address().port;
  });
  after(() => new Promise((r) => web.close(r)));

  test('probes are validated', async () => {
    const bad = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'x', kind: 'ping', target: 'x' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /kind/);
    const url = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'x', kind: 'http', target: 'ftp://x' } });
    assert.equal(url.status, 400);
    assert.match(url.json.message, /target/);
    const tcp = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'x', kind: 'tcp', target: 'nohost' } });
    assert.equal(tcp.status, 400);
    const iv = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'x', kind: 'dns', target: 'localhost', intervalSeconds: 1 } });
    assert.equal(iv.status, 400);
    assert.match(iv.json.message, /intervalSeconds/);
  });

  test('a portal probe runs at once, fails twice, opens an incident; a trap joins; recovery restores', async () => {
    for (const [m, at] of [['13500000001', 'AMP-NS-040-1'], ['13500000002', 'AMP-NS-040-3']]) {
      const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: { msisdn: m, name: '电视用户', area: 'GD.SZ.NS', attachment: at } });
      assert.equal(r.status, 201);
    }
    const r = await srv.api('POST', '/api/v1/probes', { token: sup, body: {
      name: '南山光机040 IPTV门户', kind: 'http', target: `http://127.0.0.1:${port}/portal`, expectBody: '门户 OK',
      maxLatencyMs: 2000, intervalSeconds: 60, failAfter: 2, level: 2, service: 'iptv', element: 'ON-NS-040',
    } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    probe = r.json.id;
    const up = await until(async () => { const p = (await srv.api('GET', `/api/v1/probes/${probe}`, { token: agent })).json; return p.state === 'up' && p; }, 'the first run');
    assert.equal(up.lastResult.ok, true);
    broken = true;
    await srv.advance(admin, 60000);
    await until(async () => (await srv.api('GET', `/api/v1/probes/${probe}`, { token: agent })).json.consecutiveFailures === 1, 'failure 1');
    assert.equal((await srv.api('GET', `${SP}?active=true&element=ON-NS-040`, { token: agent })).json.length, 0, 'one failure is not a fault');
    await srv.advance(admin, 60000);
    const down = await until(async () => { const p = (await srv.api('GET', `/api/v1/probes/${probe}`, { token: agent })).json; return p.state === 'down' && p; }, 'down');
    assert.match(down.lastResult.error, /status 503/);
    const [sp] = (await srv.api('GET', `${SP}?active=true&element=ON-NS-040`, { token: agent })).json;
    assert.ok(sp, 'the dial-test opened an incident');
    assert.equal(sp.origin, 'dialTest');
    assert.equal(sp.level, 2);
    assert.equal(sp.affectedNumberOfServices, 2);
    // the trap-side alarm on the same node joins it
    const al = await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-040', { sourceSystemId: 'snmp', affectedService: [{ id: 'iptv' }] }) });
    assert.equal(al.json.serviceProblem.id, sp.id);
    assert.equal((await srv.api('GET', `${SP}?active=true&element=ON-NS-040`, { token: agent })).json.length, 1, 'no second incident');
    // the alarm clears but the portal still fails: the incident stays
    await srv.api('POST', AL, { token: integ, body: alarm('ON-NS-040', { sourceSystemId: 'snmp', state: 'cleared', perceivedSeverity: 'cleared' }) });
    assert.equal((await srv.api('GET', `${SP}/${sp.id}`, { token: agent })).json.active, true);
    broken = false;
    await srv.advance(admin, 60000);
    await until(async () => (await srv.api('GET', `/api/v1/probes/${probe}`, { token: agent })).json.state === 'up', 'recovery');
    const done = (await srv.api('GET', `${SP}/${sp.id}`, { token: agent })).json;
    assert.equal(done.stage, 'restore');
    const res = (await srv.api('GET', `/api/v1/probes/${probe}/results`, { token: agent })).json;
    assert.deepEqual(res.map((x) => x.ok), [true, false, false, true]);
  });

  test('tcp and dns probes', async () => {
    const closed = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'closed port', kind: 'tcp', target: '127.0.0.1:1', intervalSeconds: 600, failAfter: 5 } });
    assert.equal(closed.status, 201);
    const open = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'portal port', kind: 'tcp', target: `127.0.0.1:${port}`, intervalSeconds: 600 } });
    const dns = await srv.api('POST', '/api/v1/probes', { token: sup, body: { name: 'resolver', kind: 'dns', target: 'localhost', intervalSeconds: 600 } });
    const get = async (id) => (await srv.api('GET', `/api/v1/probes/${id}`, { token: agent })).json;
    const c = await until(async () => { const p = await get(closed.json.id); return p.lastResult && p; }, 'tcp closed');
    assert.equal(c.lastResult.ok, false);
    assert.equal((await until(async () => { const p = await get(open.json.id); return p.lastResult && p; }, 'tcp open')).lastResult.ok, true);
    assert.equal((await until(async () => { const p = await get(dns.json.id); return p.lastResult && p; }, 'dns')).lastResult.ok, true);
  });
});

describe('metric thresholds 阈值 with hysteresis (A2)', () => {
  const read = (value) => srv.api('POST', '/api/v1/metrics', { token: integ, body: { items: [{ element: 'ON-NS-045', indicator: 'opticalPower', value }] } });
  const active = async () => (await srv.api('GET', `${AL}?alarmedObject.id=ON-NS-045&active=true`, { token: agent })).json;

  test('thresholds are validated: the clear value lies on the good side of the raise value', async () => {
    const bad = await srv.api('POST', '/api/v1/thresholds', { token: sup, body: { indicator: 'opticalPower', direction: 'below', raiseAt: -25, clearAt: -26, perceivedSeverity: 'major' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /clearAt/);
    const list = (await srv.api('GET', '/api/v1/thresholds', { token: agent })).json;
    assert.ok(list.some((t) => t.indicator === 'opticalPower' && t.raiseAt === -25 && t.clearAt === -22));
    const badReading = await srv.api('POST', '/api/v1/metrics', { token: integ, body: { items: [{ element: 'ON-NS-045', indicator: 'opticalPower', value: 'low' }] } });
    assert.equal(badReading.status, 400);
    assert.match(badReading.json.message, /items\[0\]\.value/);
    const unknown = await srv.api('POST', '/api/v1/metrics', { token: integ, body: { items: [{ element: 'ON-XX-999', indicator: 'opticalPower', value: -30 }] } });
    assert.equal(unknown.json.unknownElements, 1, 'a reading for an element not in the topology is counted, not lost in silence');
  });

  test('optical power falling under the line raises once, hovers, and clears only above the clear line', async () => {
    assert.equal((await read(-24.2)).json.alarmsRaised, 0);
    assert.equal((await active()).length, 0);
    const r = await read(-25.4);
    assert.equal(r.status, 200);
    assert.equal(r.json.alarmsRaised, 1);
    const [a] = await active();
    assert.equal(a.perceivedSeverity, 'major');
    assert.equal(a.alarmType, 'qualityOfServiceAlarm');
    assert.equal(a.crossedThresholdInformation.observedValue, -25.4);
    assert.equal(a.crossedThresholdInformation.indicatorUnit, 'dBm');
    assert.ok(a.serviceProblem, 'a major root alarm is a level-3 finding');
    // hovering between the lines: no flapping
    for (const v of [-24, -23.1, -25.9, -22.5]) assert.equal((await read(v)).json.alarmsRaised + (await read(v)).json.alarmsCleared, 0);
    assert.equal((await active()).length, 1);
    assert.equal((await read(-21.8)).json.alarmsCleared, 1);
    assert.equal((await active()).length, 0);
    const sp = (await srv.api('GET', `${SP}/${a.serviceProblem.id}`, { token: agent })).json;
    assert.equal(sp.stage, 'restore');
  });
});

describe('the service quality map (A10)', () => {
  test('per service × district: complaints, alarms, incidents and dial-tests, with hourly history', async () => {
    const bad = await srv.api('GET', '/api/v1/quality?level=planet', { token: agent });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /level/);
    assert.equal((await srv.api('GET', '/api/v1/quality?hours=0', { token: agent })).status, 400);
    const q = (await srv.api('GET', '/api/v1/quality?level=district&area=GD.SZ&hours=48', { token: sup })).json;
    assert.deepEqual(q.areas.map((a) => a.code), ['GD.SZ.BA', 'GD.SZ.FT', 'GD.SZ.LG', 'GD.SZ.NS']);
    const cell = (svc, area) => q.cells.find((c) => c.service === svc && c.area === area);
    const bb = cell('broadband', 'GD.SZ.NS');
    const expected = Number(srv.sql("SELECT COUNT(*) FROM signals WHERE service = 'broadband' AND area LIKE 'GD.SZ.NS%'"));
    assert.ok(expected >= 7);
    assert.equal(bb.complaints, expected, 'every complaint and fault report of the district');
    assert.ok(bb.incidents >= 2, 'the node incident and the complaint-burst incident');
    assert.ok(bb.alarms >= 2);
    assert.equal(bb.hourly.length, 48);
    assert.equal(bb.hourly.reduce((n, h) => n + h.complaints, 0), bb.complaints);
    const subs = q.areas.find((a) => a.code === 'GD.SZ.NS').subscribers;
    assert.ok(Math.abs(bb.complaintsPer10k - (expected * 10000) / subs) < 1e-6);
    const iptv = cell('iptv', 'GD.SZ.NS');
    assert.equal(iptv.dialTests, 4);
    assert.equal(iptv.dialTestSuccess, 0.5);
    // the mobile incident opened by hand in Futian is still active: that cell is red
    assert.equal(cell('mobile', 'GD.SZ.FT').health, 'red');
    assert.equal(cell('voice', 'GD.SZ.LG').health, 'grey');
  });
});

describe('topology import (A6)', () => {
  test('bad trees are refused with the element named', async () => {
    const kind = await srv.api('PUT', '/api/v1/topology', { token: integ, body: { elements: [{ id: 'X-1', kind: 'toaster', name: 'x', network: 'cable' }] } });
    assert.equal(kind.status, 400);
    assert.match(kind.json.message, /elements\[0\]\.kind/);
    const orphan = await srv.api('PUT', '/api/v1/topology', { token: integ, body: { elements: [{ id: 'X-2', parent: 'NOPE', kind: 'amplifier', name: 'x', network: 'cable' }] } });
    assert.equal(orphan.status, 422);
    assert.match(orphan.json.message, /NOPE/);
    const cycle = await srv.api('PUT', '/api/v1/topology', { token: integ, body: { elements: [
      { id: 'X-3', parent: 'X-4', kind: 'amplifier', name: 'x', network: 'cable' },
      { id: 'X-4', parent: 'X-3', kind: 'amplifier', name: 'y', network: 'cable' }] } });
    assert.equal(cycle.status, 422);
    assert.match(cycle.json.message, /cycle/);
    assert.equal((await srv.api('GET', '/api/v1/elements/X-3', { token: agent })).status, 404, 'nothing half-written');
    assert.equal((await srv.api('PUT', '/api/v1/topology', { token: agent, body: { elements: [] } })).status, 403);
  });

  test('a new node in the middle of the tree: positions renumbered, everyone still under the right element', async () => {
    const before17 = (await srv.api('GET', '/api/v1/elements/ON-NS-017', { token: agent })).json.subscribersUnder;
    const beforeHe = (await srv.api('GET', '/api/v1/elements/HE-SZ', { token: agent })).json.subscribersUnder;
    const r = await srv.api('PUT', '/api/v1/topology', { token: integ, body: {
      areas: [{ code: 'GD.SZ.NS.G05', parent: 'GD.SZ.NS', name: '南山区第5网格', level: 'grid' }],
      elements: [
        { id: 'AMP-NS-900-1', parent: 'ON-NS-900', kind: 'amplifier', name: '南山区光机900放大器1', network: 'cable', area: 'GD.SZ.NS.G05' },
        { id: 'ON-NS-900', parent: 'HE-SZ', kind: 'opticalNode', name: '南山区光机900', network: 'cable', area: 'GD.SZ.NS' },
      ] } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.elements, 2);
    assert.equal((await srv.api('GET', '/api/v1/elements/ON-NS-017', { token: agent })).json.subscribersUnder, before17);
    const s = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: { msisdn: '13400000001', name: '新小区用户', area: 'GD.SZ.NS.G05', attachment: 'AMP-NS-900-1' } });
    assert.equal(s.status, 201);
    const node = (await srv.api('GET', '/api/v1/elements/ON-NS-900', { token: agent })).json;
    assert.equal(node.subscribersUnder, 1);
    assert.deepEqual(node.path.map((p) => p.id), ['CABLE', 'HE-SZ']);
    assert.equal((await srv.api('GET', '/api/v1/elements/HE-SZ', { token: agent })).json.subscribersUnder, beforeHe + 1);
    // an incident on the new node reaches its subscriber
    const sp = await srv.api('POST', SP, { token: sup, body: { category: 'network', description: '新光机故障', priority: 3, reason: '光机故障', originatorParty: { id: 'supervisor1' }, affectedResource: [{ id: 'ON-NS-900' }] } });
    assert.equal(sp.json.affectedNumberOfServices, 1);
    const o = (await srv.api('GET', '/api/v1/subscribers/13400000001/overview', { token: agent })).json;
    assert.equal(o.incidents[0].id, sp.json.id);
  });
});

describe('the IVR knows too (A9)', () => {
  test('a caller under an incident hears it, is counted and promised the restore message', async () => {
    const bad = await srv.api('GET', '/api/v1/ivr/status?caller=12345', { token: integ });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /caller/);
    const st = (await srv.api('GET', '/api/v1/ivr/status?caller=8613400000001', { token: integ })).json;
    assert.equal(st.knownIncident, true);
    assert.match(st.prompt.zh, /网络故障暂时受影响/);
    assert.match(st.prompt.zh, /预计/);
    const none = (await srv.api('GET', '/api/v1/ivr/status?caller=13700000011', { token: integ })).json;
    assert.equal(none.knownIncident, false);
    assert.equal(none.prompt, undefined);
    const c = await srv.api('POST', '/api/v1/ivr/contacts', { token: integ, body: { caller: '13400000001', kind: 'faultReport' } });
    assert.equal(c.status, 200, JSON.stringify(c.json));
    assert.equal(c.json.promised, true);
    const id = c.json.incidents[0].id;
    const sp = (await srv.api('GET', `${SP}/${id}`, { token: sup })).json;
    assert.equal(sp.notifications.promisedOnContact, 1);
    await srv.api('PATCH', `${SP}/${id}`, { token: sup, body: { stage: 'restore' } });
    await srv.advance(admin, 24 * HOUR); // past any quiet hours
    await srv.advance(admin, 1000);
    const msgs = (await srv.api('GET', `/api/v1/notifications?template=incident.restored&entityId=${id}`, { token: admin })).json;
    assert.deepEqual(msgs.map((m) => m.recipient), ['13400000001']);
  });
});

describe('TMF642 task resources', () => {
  test('acknowledge and clear by pattern; patterns are validated', async () => {
    for (const amp of ['AMP-NS-020-1', 'AMP-NS-020-2'])
      assert.equal((await srv.api('POST', AL, { token: integ, body: alarm(amp, { sourceSystemId: 'ems-7', perceivedSeverity: 'minor' }) })).status, 201);
    const empty = await srv.api('POST', '/tmf-api/alarmManagement/v4/ackAlarms', { token: spec, body: { alarmPattern: [{}] } });
    assert.equal(empty.status, 400);
    assert.match(empty.json.message, /empty/);
    const unknown = await srv.api('POST', '/tmf-api/alarmManagement/v4/ackAlarms', { token: spec, body: { alarmPattern: [{ colour: 'red' }] } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.message, /colour/);
    const ack = await srv.api('POST', '/tmf-api/alarmManagement/v4/ackAlarms', { token: spec, body: { alarmPattern: [{ sourceSystemId: 'ems-7' }], ackUserId: 'specialist1' } });
    assert.equal(ack.status, 201, JSON.stringify(ack.json));
    assert.equal(ack.json.ackedAlarm.length, 2);
    for (const a of ack.json.ackedAlarm)
      assert.equal((await srv.api('GET', `${AL}/${a.id}`, { token: agent })).json.ackState, 'acknowledged');
    const clr = await srv.api('POST', '/tmf-api/alarmManagement/v4/clearAlarms', { token: spec, body: { alarmPattern: [{ alarmedObject: { id: 'AMP-NS-020-1' }, sourceSystemId: 'ems-7' }] } });
    assert.equal(clr.json.clearedAlarm.length, 1);
    assert.equal((await srv.api('GET', `${AL}?sourceSystemId=ems-7&active=true`, { token: agent })).json.length, 1);
    const cm = await srv.api('POST', '/tmf-api/alarmManagement/v4/commentAlarms', { token: spec, body: { alarmPattern: [{ sourceSystemId: 'ems-7' }], comment: { comment: '已通知装维' } } });
    assert.equal(cm.json.commentedAlarm.length, 2, 'comments reach cleared alarms too');
    const h = (await srv.api('GET', `${AL}/${clr.json.clearedAlarm[0].id}`, { token: agent })).json.history;
    assert.equal(h[h.length - 1].note, '已通知装维');
  });
});

describe('housekeeping', () => {
  test('signals older than 8 days and dial-test results older than 35 days age out at night', async () => {
    const before = Number(srv.sql('SELECT COUNT(*) FROM signals'));
    assert.ok(before > 0);
    const results = Number(srv.sql('SELECT COUNT(*) FROM probe_results'));
    assert.ok(results > 0);
    const last = (await srv.events(admin)).at(-1).seq;
    await srv.advance(admin, 9 * 24 * HOUR);
    await srv.advance(admin, 1000);
    assert.equal(Number(srv.sql('SELECT COUNT(*) FROM signals')), 0, 'every signal of this run is older than 8 days now');
    assert.ok(Number(srv.sql('SELECT COUNT(*) FROM probe_results')) >= results, 'results are kept for 35 days (the probes go on running)');
    const pruned = (await srv.events(admin, last)).filter((e) => e.type === 'assurance.pruned');
    assert.ok(pruned.length >= 1);
    assert.equal(pruned[0].data.signals, before);
  });
});
