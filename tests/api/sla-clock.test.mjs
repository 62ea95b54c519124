// SLA (T3) on the engine's clock: warning at 80 %, breach and escalation (升级) at due, and the
// cases users report most: a pending pause, a policy change mid-ticket, a reopen, business
// hours, and all of it right across a restart. The server runs --clock=manual.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT, ADMIN_PW, MIN, ms } from './server.mjs';

let srv, agent, spec, sup, admin;
before(async () => {
  srv = await startServer();
  agent = await srv.login('agent1');
  spec = await srv.login('specialist1');
  sup = await srv.login('supervisor1');
  admin = await srv.login('admin', ADMIN_PW);
});
after(async () => { await srv.stop(); });

const move = (id, token, body) => srv.api('PATCH', `${TT}/${id}`, { token, body });
const get = async (id) => (await srv.api('GET', `${TT}/${id}`, { token: agent })).json;
async function complaint(extra = {}) {
  const r = await srv.api('POST', TT, { token: agent, body: {
    description: '宽带无法上网', severity: 'Major', ticketType: 'complaint', service: 'broadband', ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}
const eventsOf = async (id) => (await srv.events(sup)).filter((e) => e.entityId === id);

describe('warning, breach and escalation', () => {
  test('80 % raises a warning; the due time breaches and escalates to the group\'s target', async () => {
    const t = await complaint();
    await move(t.id, agent, { stage: 'dispatched' });
    await srv.advance(admin, 1440 * MIN * 0.8 - MIN);
    assert.equal((await get(t.id)).slaState, 'running');
    await srv.advance(admin, 2 * MIN);
    let now = await get(t.id);
    assert.equal(now.slaState, 'warning');
    assert.ok((await eventsOf(t.id)).some((e) => e.type === 'ticket.slaWarning'));
    await srv.advance(admin, 1440 * MIN * 0.2);
    now = await get(t.id);
    assert.equal(now.slaState, 'breached');
    assert.equal(now.escalated, true);
    assert.equal(now.assignedGroup, 'duty');
    const types = (await eventsOf(t.id)).map((e) => e.type);
    assert.ok(types.includes('ticket.slaBreached'));
    // the work order's own timeline carries the SLA events as internal system notes
    const notes = (await srv.api('GET', `${TT}/${t.id}`, { token: sup })).json.note.filter((n) => n.author === 'system');
    assert.deepEqual(notes.map((n) => [n.visibility, n.text.split('：')[0]]),
      [['internal', '响应超时'], ['internal', 'SLA预警'], ['internal', 'SLA超时']]);
    const esc = (await eventsOf(t.id)).find((e) => e.type === 'ticket.escalated');
    assert.deepEqual([esc.data.fromGroup, esc.data.toGroup], ['broadband', 'duty']);
    const listed = await srv.api('GET', `${TT}?escalated=true&assignedGroup=duty`, { token: sup });
    assert.ok(listed.json.some((x) => x.id === t.id));
    const audit = await srv.api('GET', `/api/v1/audit?entityType=ticket&entityId=${t.id}&action=escalate`, { token: sup });
    assert.equal(audit.json[0].actor, 'system');
  });

  test('a work order resolved in time is met and never breaches', async () => {
    const t = await complaint();
    await move(t.id, agent, { stage: 'resolvedAtFirstLine' });
    await srv.advance(admin, 2000 * MIN);
    const now = await get(t.id);
    assert.equal(now.slaState, 'met');
    assert.equal(now.escalated, false);
    assert.ok(!(await eventsOf(t.id)).some((e) => e.type === 'ticket.slaBreached'));
  });

  test('an unanswered work order is reported overdue for response', async () => {
    const t = await complaint();
    await srv.advance(admin, 31 * MIN);
    assert.ok((await eventsOf(t.id)).some((e) => e.type === 'ticket.responseOverdue'));
  });
});

describe('the clock pauses, survives policy changes and reopens', () => {
  test('pending pauses the resolution clock; the due time moves by exactly the pause', async () => {
    const t = await complaint();
    await move(t.id, agent, { stage: 'dispatched' });
    await move(t.id, spec, { stage: 'accepted' });
    const due0 = ms((await get(t.id)).expectedResolutionDate);
    await srv.advance(admin, 600 * MIN);
    const p = await move(t.id, spec, { stage: 'pending', statusChangeReason: '等待客户在家' });
    assert.equal(p.json.slaState, 'paused');
    assert.equal(p.json.expectedResolutionDate, undefined);
    await srv.advance(admin, 2000 * MIN); // past the original due time
    assert.equal((await get(t.id)).slaState, 'paused');
    assert.ok(!(await eventsOf(t.id)).some((e) => e.type === 'ticket.slaBreached'));
    const r = await move(t.id, spec, { stage: 'accepted' });
    assert.equal(r.json.slaState, 'running');
    assert.equal(ms(r.json.expectedResolutionDate) - due0, 2000 * MIN);
  });

  test('a policy change mid-ticket keeps the time used and applies the new target', async () => {
    const t = await complaint({ ticketType: 'suggestion' }); // *,*,* = 4320 min
    await srv.advance(admin, 1000 * MIN);
    const pol = (await srv.api('GET', '/api/v1/slaPolicies', { token: sup })).json.find((p) => p.ticketType === '*' && p.priority === '*' && p.customerLevel === '*');
    const r = await srv.api('PATCH', `/api/v1/slaPolicies/${pol.id}`, { token: sup, body: { resolutionMinutes: 1200 } });
    assert.equal(r.status, 200);
    const now = await get(t.id);
    assert.equal(ms(now.expectedResolutionDate) - ms(now.creationDate), 1200 * MIN);
    // 1000 of 1200 minutes used is past 80 %: the warning comes with the change
    assert.equal(now.slaState, 'warning');
    await srv.advance(admin, 199 * MIN);
    assert.equal((await get(t.id)).slaState, 'warning');
    await srv.advance(admin, 2 * MIN);
    assert.equal((await get(t.id)).slaState, 'breached');
    await srv.api('PATCH', `/api/v1/slaPolicies/${pol.id}`, { token: sup, body: { resolutionMinutes: 4320 } });
  });

  test('raising the priority picks the stricter policy, keeping the time used', async () => {
    const t = await complaint({ ticketType: 'faultReport' }); // faultReport,*,* = 2880
    await srv.advance(admin, 100 * MIN);
    const r = await move(t.id, agent, { priority: 'Critical' }); // faultReport,Critical,* = 240
    assert.equal(r.status, 200);
    assert.equal(ms(r.json.expectedResolutionDate) - ms(r.json.creationDate), 240 * MIN);
    assert.notEqual(r.json.slaPolicy, t.slaPolicy);
  });

  test('a reopen resumes the clock with the time already used', async () => {
    const t = await complaint();
    await srv.advance(admin, 300 * MIN);
    await move(t.id, agent, { stage: 'resolvedAtFirstLine' });
    await move(t.id, agent, { stage: 'closed' });
    await srv.advance(admin, 5000 * MIN);
    const r = await move(t.id, agent, { stage: 'reopened', statusChangeReason: '客户再次投诉' });
    assert.equal(r.status, 200);
    assert.equal(r.json.slaState, 'running');
    assert.equal(r.json.resolutionDate, undefined);
    const reopenedAt = ms(r.json.statusChangeDate);
    assert.equal(ms(r.json.expectedResolutionDate) - reopenedAt, (1440 - 300) * MIN);
  });
});

describe('business hours', () => {
  test('a calendar policy counts only Mon–Fri 09:00–18:00', async () => {
    let r = await srv.api('POST', '/api/v1/calendars', { token: sup, body: {
      id: 'office', name: '工作日 9-18', hours: [1, 2, 3, 4, 5].map((d) => ({ weekday: d, from: '09:00', to: '18:00' })) } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    r = await srv.api('POST', '/api/v1/slaPolicies', { token: sup, body: {
      ticketType: 'serviceRequest', priority: 'Low', customerLevel: '*', responseMinutes: 60, resolutionMinutes: 600, calendar: 'office' } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    // move the clock to the next Friday 17:00 (+08:00)
    const clock = (await srv.api('GET', '/api/v1/admin/clock', { token: admin })).json;
    const local = new Date(clock.nowMs + 8 * 3600000);
    let days = (5 - local.getUTCDay() + 7) % 7 || 7;
    const target = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + days, 17, 0, 0) - 8 * 3600000;
    await srv.advance(admin, target - clock.nowMs);
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '办理宽带提速', severity: 'Minor', ticketType: 'serviceRequest', priority: 'Low' } })).json;
    // 600 business minutes from Fri 17:00: 60 on Friday, 540 on Monday 09:00–18:00 → Monday 18:00
    const due = new Date(ms(t.expectedResolutionDate) + 8 * 3600000);
    assert.equal(due.getUTCDay(), 1);
    assert.equal(due.getUTCHours(), 18);
    assert.equal(ms(t.expectedResolutionDate) - ms(t.creationDate), (3 * 24 + 1) * 60 * MIN);
    // response: 60 business minutes from Fri 17:00 → Fri 18:00
    assert.equal(ms(t.responseDueDate) - ms(t.creationDate), 60 * MIN);
  });

  test('a calendar with a bad window is refused naming it', async () => {
    const r = await srv.api('POST', '/api/v1/calendars', { token: sup, body: { id: 'bad', name: 'x', hours: [{ weekday: 1, from: '18:00', to: '09:00' }] } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'hours[0].to');
  });
});

describe('across a restart', () => {
  test('timers are rebuilt: a breach due while the server was down fires after restart', async () => {
    const own = await startServer();
    try {
      const a = await own.login('agent1');
      const ad = await own.login('admin', ADMIN_PW);
      const r = await own.api('POST', TT, { token: a, body: { description: '重启测试', severity: 'Major', ticketType: 'complaint', service: 'tv' } });
      const id = r.json.id;
      await own.api('PATCH', `${TT}/${id}`, { token: a, body: { stage: 'dispatched' } });
      await own.advance(ad, 1000 * MIN);
      own.proc.kill('SIGKILL');
      await new Promise((res) => own.proc.on('exit', res));
      // start again on the same store; the manual clock resumes where the history ended
      await own.restart();
      const a2 = await own.login('agent1');
      const ad2 = await own.login('admin', ADMIN_PW);
      let t = (await own.api('GET', `${TT}/${id}`, { token: a2 })).json;
      assert.equal(t.slaState, 'running');
      await own.advance(ad2, 200 * MIN);
      t = (await own.api('GET', `${TT}/${id}`, { token: a2 })).json;
      assert.equal(t.slaState, 'warning', 'the 80 % timer survived the restart');
      await own.advance(ad2, 300 * MIN);
      t = (await own.api('GET', `${TT}/${id}`, { token: a2 })).json;
      assert.equal(t.slaState, 'breached');
      assert.equal(t.assignedGroup, 'duty');
    } finally {
      await own.stop();
    }
  });
});
