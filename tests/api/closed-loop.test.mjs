// The closed loop (闭环) as the service center works it: first line takes a complaint,
// rules dispatch it, second line accepts and works it, feeds back, first line replies and
// archives; with the history, notes, roles, queues and repeats people rely on.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT, ms } from './server.mjs';

let srv, agent, spec, sup, qa, integ;
before(async () => {
  srv = await startServer();
  agent = await srv.login('agent1');
  spec = await srv.login('specialist1');
  sup = await srv.login('supervisor1');
  qa = await srv.login('qa1');
  integ = await srv.login('integration1');
});
after(async () => { await srv.stop(); });

const complaint = (extra = {}) => ({
  description: '家里宽带晚上经常断线，已重启光猫无效', severity: 'Major', ticketType: 'complaint',
  service: 'broadband', category: '掉线', area: 'GD.SZ.NS',
  channel: { name: 'voice' }, relatedParty: [{ id: '13800138000', name: '张先生', role: 'customer' }],
  ...extra,
});

async function create(body = complaint(), token = agent) {
  const r = await srv.api('POST', TT, { token, body });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r;
}
const move = (id, token, body) => srv.api('PATCH', `${TT}/${id}`, { token, body, headers: { 'Content-Type': 'application/merge-patch+json' } });

describe('taking a complaint', () => {
  test('create answers 201 with Location, the TMF621 shape and a running SLA', async () => {
    const r = await create();
    const t = r.json;
    assert.equal(r.headers.get('location'), t.href);
    assert.equal(t.href, `${TT}/${t.id}`);
    assert.equal(typeof t.id, 'string');
    assert.equal(t['@type'], 'TroubleTicket');
    assert.equal(t.status, 'acknowledged');
    assert.equal(t.stage, 'new');
    assert.equal(t.priority, 'Medium');
    assert.equal(t.customerLevel, 'normal');
    assert.match(t.creationDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/);
    assert.equal(t.slaState, 'running');
    // complaint,*,* = 1440 minutes to resolve, 30 to respond
    assert.equal(ms(t.expectedResolutionDate) - ms(t.creationDate), 1440 * 60000);
    assert.equal(ms(t.responseDueDate) - ms(t.creationDate), 30 * 60000);
    assert.equal(t.statusChange.length, 1);
    assert.equal(t.statusChange[0].actor, 'agent1');
    const g = await srv.api('GET', t.href, { token: agent });
    assert.equal(g.status, 200);
    assert.equal(g.json.description, t.description);
    assert.deepEqual(g.json.relatedParty, t.relatedParty);
  });

  test('an unknown work order is 404 with a problem body', async () => {
    const r = await srv.api('GET', `${TT}/999999`, { token: agent });
    assert.equal(r.status, 404);
    assert.equal(r.json.status, '404');
    assert.equal(r.json.code, 'notFound');
  });

  test('qa may read but not create or change work orders', async () => {
    const t = (await create()).json;
    assert.equal((await srv.api('GET', t.href, { token: qa })).status, 200);
    assert.equal((await srv.api('POST', TT, { token: qa, body: complaint() })).status, 403);
    assert.equal((await move(t.id, qa, { priority: 'High' })).status, 403);
  });

  test('a retry with the same Idempotency-Key returns the first work order', async () => {
    const h = { 'Idempotency-Key': 'call-20261123-0001' };
    const a = await srv.api('POST', TT, { token: integ, body: complaint(), headers: h });
    const b = await srv.api('POST', TT, { token: integ, body: complaint(), headers: h });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.json.id, b.json.id);
    const c = await srv.api('POST', TT, { token: integ, body: complaint(), headers: { 'Idempotency-Key': 'call-20261123-0002' } });
    assert.notEqual(c.json.id, a.json.id);
  });
});

describe('the closed loop', () => {
  test('dispatch by rule → accept → locate → feedback → reply → archive, every move recorded', async () => {
    const t = (await create(complaint({ service: 'broadband' }))).json;
    let r = await move(t.id, agent, { stage: 'dispatched', statusChangeReason: '派单至宽带支撑' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.assignedGroup, 'broadband');
    assert.equal(r.json.status, 'acknowledged');

    const q = await srv.api('GET', '/api/v1/groups/broadband/queue', { token: spec });
    assert.ok(q.json.some((x) => x.id === t.id), 'dispatched work order is in the group queue');

    r = await move(t.id, spec, { stage: 'accepted' });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'inProgress');
    assert.equal(r.json.assignee, 'specialist1');
    assert.ok(r.json.respondedDate);
    r = await move(t.id, spec, { stage: 'inProgress', step: 'locate' });
    assert.equal(r.json.step, 'locate');
    r = await move(t.id, spec, { step: 'handle' });
    assert.equal(r.status, 200);
    assert.equal(r.json.step, 'handle');
    r = await move(t.id, spec, { stage: 'feedback', statusChangeReason: '更换分光器后恢复' });
    assert.equal(r.json.status, 'resolved');
    assert.equal(r.json.slaState, 'met');
    assert.ok(r.json.resolutionDate);
    r = await move(t.id, agent, { stage: 'replied', note: [{ text: '已电话告知客户，客户满意', visibility: 'customer' }] });
    assert.equal(r.json.stage, 'replied');
    r = await move(t.id, agent, { stage: 'closed' });
    assert.equal(r.json.status, 'closed');

    const sc = r.json.statusChange;
    assert.deepEqual(sc.map((c) => c.stage), ['new', 'dispatched', 'accepted', 'inProgress', 'inProgress', 'feedback', 'replied', 'closed']);
    assert.deepEqual(sc.map((c) => c.status), ['acknowledged', 'acknowledged', 'inProgress', 'inProgress', 'inProgress', 'resolved', 'resolved', 'closed']);
    assert.deepEqual(sc.map((c) => c.actor), ['agent1', 'agent1', 'specialist1', 'specialist1', 'specialist1', 'specialist1', 'agent1', 'agent1']);
    assert.equal(sc[1].changeReason, '派单至宽带支撑');
    assert.equal(sc[1].fromStage, 'new');

    const ev = (await srv.events(sup)).filter((e) => e.entityId === t.id).map((e) => e.type);
    assert.ok(ev.includes('ticket.created') && ev.includes('ticket.dispatched') && ev.includes('ticket.stageChanged'));
    const audit = await srv.api('GET', `/api/v1/audit?entityType=ticket&entityId=${t.id}&limit=50`, { token: sup });
    assert.equal(audit.status, 200);
    const moves = audit.json.filter((a) => a.action === 'move');
    assert.equal(moves.length, 7);
    const last = moves[0]; // newest first
    assert.equal(last.before.stage, 'replied');
    assert.equal(last.after.stage, 'closed');
  });

  test('an illegal move is 409 naming both stages, and changes nothing', async () => {
    const t = (await create()).json;
    const r = await move(t.id, agent, { stage: 'closed' });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'illegalTransition');
    assert.match(r.json.message, /new/);
    assert.match(r.json.message, /closed/);
    const g = await srv.api('GET', t.href, { token: agent });
    assert.equal(g.json.stage, 'new');
    assert.equal(g.json.statusChange.length, 1);
  });

  test('a legal move by the wrong role is 403', async () => {
    const t = (await create()).json;
    await move(t.id, agent, { stage: 'dispatched' });
    const r = await move(t.id, agent, { stage: 'accepted' });
    assert.equal(r.status, 403);
    assert.equal((await srv.api('GET', t.href, { token: agent })).json.stage, 'dispatched');
  });

  test('no matching rule and no group: 422 naming assignedGroup', async () => {
    const t = (await create({ description: '咨询积分兑换', severity: 'Minor', ticketType: 'consultation' })).json;
    const r = await move(t.id, agent, { stage: 'dispatched' });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'assignedGroup');
  });

  test('manual re-dispatch to a named group, and to a group that does not exist', async () => {
    const t = (await create()).json;
    await move(t.id, agent, { stage: 'dispatched' });
    let r = await move(t.id, sup, { assignedGroup: 'mobile', statusChangeReason: '实为无线问题' });
    assert.equal(r.status, 200);
    assert.equal(r.json.assignedGroup, 'mobile');
    assert.equal(r.json.stage, 'dispatched');
    r = await move(t.id, sup, { assignedGroup: 'nosuch' });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'assignedGroup');
  });

  test('a work order is assigned only to a user who exists', async () => {
    const t = (await create()).json;
    let r = await move(t.id, sup, { assignee: 'engineer1' });
    assert.equal(r.status, 200);
    assert.equal(r.json.assignee, 'engineer1');
    r = await move(t.id, sup, { assignee: 'ghost' });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'assignee');
    r = await move(t.id, sup, { assignee: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.assignee, undefined);
  });

  test('pending returns only to the stage it paused', async () => {
    const t = (await create()).json;
    await move(t.id, agent, { stage: 'dispatched' });
    await move(t.id, spec, { stage: 'accepted' });
    let r = await move(t.id, spec, { stage: 'pending', statusChangeReason: '客户不在家' });
    assert.equal(r.json.status, 'pending');
    assert.equal((await move(t.id, spec, { stage: 'inProgress' })).status, 409);
    r = await move(t.id, spec, { stage: 'accepted' });
    assert.equal(r.status, 200);
  });

  test('TMF status in a PATCH maps onto a stage', async () => {
    const t = (await create()).json;
    let r = await move(t.id, agent, { status: 'resolved' });
    assert.equal(r.json.stage, 'resolvedAtFirstLine');
    r = await move(t.id, agent, { status: 'closed' });
    assert.equal(r.json.stage, 'closed');
    r = await move(t.id, agent, { status: 'inProgress', statusChangeReason: '客户再次来电' });
    assert.equal(r.json.stage, 'reopened');
    r = await move(t.id, agent, { status: 'cancelled' });
    assert.equal(r.json.status, 'cancelled');
    r = await move(t.id, agent, { status: 'inProgress' });
    assert.equal(r.status, 409);
  });

  test('customer-visible and internal notes are kept apart', async () => {
    const t = (await create(complaint({ note: [{ text: '首次来电记录' }] }))).json;
    const r = await move(t.id, agent, { note: [{ text: '已致歉', visibility: 'customer' }, { text: '疑似光机故障', visibility: 'internal' }] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.note.map((n) => [n.text, n.visibility, n.author]), [
      ['首次来电记录', 'internal', 'agent1'], ['已致歉', 'customer', 'agent1'], ['疑似光机故障', 'internal', 'agent1']]);
    assert.ok(r.json.note.every((n) => n.id && n.date));
  });

  test('the group queue lists open work orders earliest due first', async () => {
    const a = (await create(complaint({ service: 'tv', customerLevel: 'normal' }))).json;
    const b = (await create(complaint({ service: 'tv', customerLevel: 'diamond' }))).json; // 240 min
    await move(a.id, agent, { stage: 'dispatched' });
    await move(b.id, agent, { stage: 'dispatched' });
    const q = await srv.api('GET', '/api/v1/groups/tv/queue', { token: spec });
    assert.equal(q.status, 200);
    const ids = q.json.map((x) => x.id);
    assert.ok(ids.indexOf(b.id) < ids.indexOf(a.id), 'the diamond customer\'s shorter SLA comes first');
    const dues = q.json.map((x) => ms(x.expectedResolutionDate));
    assert.deepEqual(dues, [...dues].sort((x, y) => x - y));
    assert.equal(q.headers.get('x-total-count'), String(q.json.length));
  });
});

describe('repeat complaints (重复投诉)', () => {
  test('same customer and category within 30 days links to the earlier one', async () => {
    const first = (await create(complaint({ relatedParty: [{ id: '13900000001', role: 'customer' }], category: '网速慢' }))).json;
    const again = (await create(complaint({ relatedParty: [{ id: '13900000001', role: 'customer' }], category: '网速慢' }))).json;
    assert.equal(again.repeatOf, first.id);
    assert.deepEqual(again.troubleTicketRelationship.map((x) => [x.id, x.relationshipType]), [[first.id, 'isRepeatOf']]);
    const other = (await create(complaint({ relatedParty: [{ id: '13900000001', role: 'customer' }], category: '资费争议' }))).json;
    assert.equal(other.repeatOf, undefined);
    const someoneElse = (await create(complaint({ relatedParty: [{ id: '13900000002', role: 'customer' }], category: '网速慢' }))).json;
    assert.equal(someoneElse.repeatOf, undefined);
    const ev = (await srv.events(sup)).filter((e) => e.type === 'ticket.repeatDetected');
    assert.ok(ev.some((e) => e.entityId === again.id && String(e.data.repeatOf) === first.id));
  });

  test('after 30 days it is a new complaint again', async () => {
    const admin = await srv.login('admin', 'admin-test-pw');
    const party = [{ id: '13900000003', role: 'customer' }];
    await create(complaint({ relatedParty: party, category: '无信号' }));
    await srv.advance(admin, 31 * 24 * 3600 * 1000);
    const later = (await create(complaint({ relatedParty: party, category: '无信号' }))).json;
    assert.equal(later.repeatOf, undefined);
  });
});
