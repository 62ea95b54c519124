// The notification outbox: TMF621 event hub webhooks, signed, retried with back-off on the
// engine's clock, never sent twice; customer SMS queued with the change that causes it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer, TT, ADMIN_PW } from './server.mjs';

let srv, integ, agent, admin, sup, hook, received = [], failNext = 0;
const SECRET = 'webhook-secret-0123456789';

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (failNext > 0) { failNext--; res.writeHead(503); res.end(); return; }
      received.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(204); res.end();
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  srv = await startServer();
  integ = await srv.login('integration1');
  agent = await srv.login('agent1');
  sup = await srv.login('supervisor1');
  admin = await srv.login('admin', ADMIN_PW);
});
after(async () => { await srv.stop(); hook.close(); });

const url = () => `http://127.0.0.1:${hook.address().port}/events`;
async function until(pred, ms = 8000) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await pred()) return true; await new Promise((r) => setTimeout(r, 50)); }
  return false;
}
const outbox = async (q = '') => (await srv.api('GET', `/api/v1/notifications?limit=100${q}`, { token: sup })).json;

describe('the TMF621 event hub', () => {
  test('a listener gets create and status events, signed with its secret', async () => {
    const h = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: integ, body: { callback: url(), secret: SECRET } });
    assert.equal(h.status, 201);
    assert.equal(h.json.callback, url());
    assert.equal(h.json.secret, undefined);
    received = [];
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '机顶盒无信号', severity: 'Major', ticketType: 'faultReport', service: 'tv' } })).json;
    await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { stage: 'resolvedAtFirstLine', statusChangeReason: '重启后恢复' } });
    assert.ok(await until(() => received.length >= 3), `got ${received.length} webhooks`);
    const types = received.map((r) => r.json.eventType);
    assert.deepEqual(types.slice(0, 3), ['TroubleTicketCreateEvent', 'TroubleTicketStatusChangeEvent', 'TroubleTicketResolvedEvent']);
    for (const r of received) {
      const mac = createHmac('sha256', SECRET).update(r.body).digest('hex');
      assert.equal(r.headers['x-shouye-signature'], `sha256=${mac}`);
      assert.equal(r.json.event.troubleTicket.id, t.id);
      assert.ok(r.json.eventId && r.json.eventTime && r.json.timeOcurred);
    }
    assert.equal(received[1].json.event.troubleTicket.status, 'resolved');
    const sent = await outbox(`&channel=webhook&entityId=${t.id}`);
    assert.ok(sent.every((n) => n.state === 'sent'), JSON.stringify(sent.map((n) => n.state)));
  });

  test('a refused delivery is retried after back-off on the engine clock, and sent once', async () => {
    received = [];
    failNext = 1;
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '重试测试', severity: 'Minor', ticketType: 'inquiry' } })).json;
    assert.ok(await until(async () => (await outbox(`&channel=webhook&entityId=${t.id}`)).some((n) => n.attempts === 1 && n.state === 'pending')));
    const [n1] = await outbox(`&channel=webhook&entityId=${t.id}`);
    assert.match(n1.lastError, /503/);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(received.filter((r) => r.json.event.troubleTicket.id === t.id).length, 0, 'not before the back-off');
    await srv.advance(admin, 11000);
    assert.ok(await until(() => received.some((r) => r.json.event.troubleTicket.id === t.id)));
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(received.filter((r) => r.json.event.troubleTicket.id === t.id).length, 1);
    const [n2] = await outbox(`&channel=webhook&entityId=${t.id}`);
    assert.equal(n2.state, 'sent');
    assert.equal(n2.attempts, 2);
  });

  test('a listener filtered by eventType gets only those, and none after it is removed', async () => {
    const h = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: integ, body: { callback: url() + '?only=create', query: 'eventType=TroubleTicketCreateEvent' } });
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '过滤测试', severity: 'Minor', ticketType: 'inquiry' } })).json;
    await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { priority: 'High' } });
    const mine = async () => (await outbox(`&channel=webhook&entityId=${t.id}`)).filter((n) => n.recipient.endsWith('?only=create'));
    assert.ok(await until(async () => (await mine()).length === 1));
    assert.equal((await mine())[0].template, 'TroubleTicketCreateEvent');
    assert.equal((await srv.api('DELETE', `/tmf-api/troubleTicket/v4/hub/${h.json.id}`, { token: integ })).status, 204);
    const t2 = (await srv.api('POST', TT, { token: agent, body: { description: '删除后', severity: 'Minor', ticketType: 'inquiry' } })).json;
    const after2 = (await outbox(`&channel=webhook&entityId=${t2.id}`)).filter((n) => n.recipient.endsWith('?only=create'));
    assert.equal(after2.length, 0);
  });

  test('bad listeners are refused naming the field; agents may not register', async () => {
    let r = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: integ, body: { callback: 'ftp://x' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'callback');
    r = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: integ, body: { callback: url(), secret: 'short' } });
    assert.equal(r.json.field, 'secret');
    r = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: agent, body: { callback: url() } });
    assert.equal(r.status, 403);
    assert.equal((await srv.api('DELETE', '/tmf-api/troubleTicket/v4/hub/9999', { token: integ })).status, 404);
  });
});

describe('never twice', () => {
  test('a delivery cut off by kill -9 is marked unknown after restart, not sent again', async () => {
    let hits = 0;
    const deliveries = [];
    const stuck = createServer((req) => { hits++; deliveries.push(req.headers['x-shouye-delivery']); /* never answers */ });
    await new Promise((r) => stuck.listen(0, '127.0.0.1', r));
    try {
      const cb = `http://127.0.0.1:${stuck.address().port}/hang`;
      const h = await srv.api('POST', '/tmf-api/troubleTicket/v4/hub', { token: integ, body: { callback: cb } });
      const t = (await srv.api('POST', TT, { token: agent, body: { description: '卡住的回调', severity: 'Minor', ticketType: 'inquiry' } })).json;
      const mine = async () => (await outbox(`&channel=webhook&entityId=${t.id}`)).find((n) => n.recipient === cb);
      assert.ok(await until(async () => hits >= 1 && (await mine()).state === 'sending'), 'the delivery is in flight');
      // a stuck webhook receiver does not hold up customer SMS
      const s2 = (await srv.api('POST', TT, { token: agent, body: { description: '短信不受影响', severity: 'Minor', ticketType: 'inquiry', relatedParty: [{ id: '13900139000', role: 'customer' }] } })).json;
      assert.ok(await until(async () => (await outbox(`&channel=sms&entityId=${s2.id}`))[0]?.state === 'sent'), 'the SMS went out meanwhile');
      srv.proc.kill('SIGKILL');
      await new Promise((r) => srv.proc.on('exit', r));
      await srv.restart();
      sup = await srv.login('supervisor1');
      integ = await srv.login('integration1');
      agent = await srv.login('agent1');
      admin = await srv.login('admin', ADMIN_PW);
      const n = await mine();
      assert.equal(n.state, 'unknown');
      assert.match(n.lastError, /never sent twice/);
      await srv.advance(admin, 3600000);
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(deliveries.filter((d) => d === n.id).length, 1, 'that message was delivered once');
      await srv.api('DELETE', `/tmf-api/troubleTicket/v4/hub/${h.json.id}`, { token: integ });
    } finally {
      stuck.closeAllConnections?.();
      stuck.close();
    }
  });
});

describe('customer SMS', () => {
  test('accepted and resolved texts are queued with the change and sent through the adapter', async () => {
    const party = [{ id: '13800138000', role: 'customer' }];
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '宽带断线', severity: 'Major', ticketType: 'complaint', relatedParty: party } })).json;
    let sms = await outbox(`&channel=sms&entityId=${t.id}`);
    assert.equal(sms.length, 1);
    assert.equal(sms[0].recipient, '13800138000');
    assert.equal(sms[0].template, 'ticket.accepted');
    assert.ok(sms[0].body.includes(`工单号${t.id}`));
    assert.ok(await until(async () => (await outbox(`&channel=sms&entityId=${t.id}`))[0].state === 'sent'));
    await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { stage: 'dispatched', assignedGroup: 'broadband' } });
    const spec = await srv.login('specialist1');
    await srv.api('PATCH', `${TT}/${t.id}`, { token: spec, body: { stage: 'accepted' } });
    await srv.api('PATCH', `${TT}/${t.id}`, { token: spec, body: { stage: 'inProgress' } });
    await srv.api('PATCH', `${TT}/${t.id}`, { token: spec, body: { stage: 'feedback' } });
    await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { stage: 'replied' } });
    sms = await outbox(`&channel=sms&entityId=${t.id}`);
    assert.deepEqual(sms.map((n) => n.template), ['ticket.resolved', 'ticket.accepted']);
  });

  test('no SMS for a party that is not a mobile number', async () => {
    const t = (await srv.api('POST', TT, { token: agent, body: { description: 'x', severity: 'Minor', ticketType: 'inquiry', relatedParty: [{ id: 'ACC-1', role: 'customer' }] } })).json;
    assert.equal((await outbox(`&channel=sms&entityId=${t.id}`)).length, 0);
  });

  test('a refused change queues nothing', async () => {
    const before = Number((await srv.api('GET', '/api/v1/notifications?limit=1', { token: sup })).headers.get('x-total-count'));
    const r = await srv.api('POST', TT, { token: agent, body: { description: '', severity: 'Minor', ticketType: 'inquiry', relatedParty: [{ id: '13800138001', role: 'customer' }] } });
    assert.equal(r.status, 400);
    const now = Number((await srv.api('GET', '/api/v1/notifications?limit=1', { token: sup })).headers.get('x-total-count'));
    assert.equal(now, before);
  });

  test('a delivery report needs the token of its message', async () => {
    const [n] = await outbox('&channel=sms');
    const bad = await srv.api('GET', `/api/v1/notifications/${n.id}/dlr?token=wrong&status=1`);
    assert.equal(bad.status, 404);
  });
});
