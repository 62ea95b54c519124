// The settings work orders run on: SLA policies, dispatch rules (and their order), each
// change audited and validated.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT, ADMIN_PW } from './server.mjs';

let srv, sup, agent, admin;
before(async () => {
  srv = await startServer();
  sup = await srv.login('supervisor1');
  agent = await srv.login('agent1');
  admin = await srv.login('admin', ADMIN_PW);
});
after(async () => { await srv.stop(); });

describe('SLA policies', () => {
  test('the demo policies are listed; create, read, change, delete, each audited', async () => {
    const list = await srv.api('GET', '/api/v1/slaPolicies', { token: agent });
    assert.equal(list.json.length, 5);
    let r = await srv.api('POST', '/api/v1/slaPolicies', { token: sup, body: { ticketType: 'inquiry', priority: '*', customerLevel: 'gold', responseMinutes: 5, resolutionMinutes: 60 } });
    assert.equal(r.status, 201);
    const id = r.json.id;
    assert.equal(r.headers.get('location'), `/api/v1/slaPolicies/${id}`);
    const t = (await srv.api('POST', TT, { token: agent, body: { description: '查询话费', severity: 'Minor', ticketType: 'inquiry', customerLevel: 'gold' } })).json;
    assert.equal(t.slaPolicy, id);
    r = await srv.api('PATCH', `/api/v1/slaPolicies/${id}`, { token: sup, body: { resolutionMinutes: 90 } });
    assert.equal(r.json.resolutionMinutes, 90);
    r = await srv.api('POST', '/api/v1/slaPolicies', { token: sup, body: { ticketType: 'inquiry', priority: '*', customerLevel: 'gold', responseMinutes: 5, resolutionMinutes: 60 } });
    assert.equal(r.status, 409);
    assert.equal((await srv.api('DELETE', `/api/v1/slaPolicies/${id}`, { token: sup })).status, 204);
    assert.equal((await srv.api('GET', `/api/v1/slaPolicies/${id}`, { token: sup })).status, 404);
    // the open work order falls back to the general policy
    const after = (await srv.api('GET', t.href, { token: agent })).json;
    assert.notEqual(after.slaPolicy, id);
    const audit = await srv.api('GET', `/api/v1/audit?entityType=slaPolicy&entityId=${id}`, { token: sup });
    assert.deepEqual(audit.json.map((a) => a.action), ['delete', 'update', 'create']);
    assert.equal(audit.json[1].before.resolutionMinutes, 60);
    assert.equal(audit.json[1].after.resolutionMinutes, 90);
  });

  test('bad policies are refused naming the field', async () => {
    for (const [body, field] of [
      [{ ticketType: 'rant', priority: '*', customerLevel: '*', responseMinutes: 1, resolutionMinutes: 1 }, 'ticketType'],
      [{ ticketType: '*', priority: '*', customerLevel: '*', responseMinutes: 0, resolutionMinutes: 1 }, 'responseMinutes'],
      [{ ticketType: '*', priority: 'Low', customerLevel: '*', responseMinutes: 1, resolutionMinutes: '1' }, 'resolutionMinutes'],
      [{ ticketType: '*', priority: 'Low', customerLevel: '*', responseMinutes: 1, resolutionMinutes: 5, calendar: 'nosuch' }, 'calendar'],
      [{ priority: 'Low', customerLevel: '*', responseMinutes: 1, resolutionMinutes: 5 }, 'ticketType'],
    ]) {
      const r = await srv.api('POST', '/api/v1/slaPolicies', { token: sup, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.field, field);
    }
  });
});

describe('dispatch rules', () => {
  test('rules apply in position order; a more specific earlier rule wins', async () => {
    let r = await srv.api('POST', '/api/v1/dispatchRules', { token: sup, body: { position: 1, ticketType: 'faultReport', area: 'GD.FS', service: 'broadband', group: 'complaints' } });
    assert.equal(r.status, 201);
    const ruleId = r.json.id;
    const rules = (await srv.api('GET', '/api/v1/dispatchRules', { token: agent })).json;
    assert.equal(rules[0].id, ruleId);
    assert.deepEqual(rules.map((x) => x.position), [...rules.map((x) => x.position)].sort((a, b) => a - b));
    const mk = async (area) => {
      const t = (await srv.api('POST', TT, { token: agent, body: { description: '断网', severity: 'Major', ticketType: 'faultReport', service: 'broadband', area } })).json;
      return (await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { stage: 'dispatched' } })).json.assignedGroup;
    };
    assert.equal(await mk('GD.FS.NH'), 'complaints');
    assert.equal(await mk('GD.SZ.NS'), 'broadband');
    r = await srv.api('PATCH', `/api/v1/dispatchRules/${ruleId}`, { token: sup, body: { position: 999 } });
    assert.equal(r.json.position, 999);
    assert.equal(await mk('GD.FS.NH'), 'broadband');
    assert.equal((await srv.api('DELETE', `/api/v1/dispatchRules/${ruleId}`, { token: sup })).status, 204);
  });

  test('a rule to a group that does not exist, or with a bad area, is refused', async () => {
    let r = await srv.api('POST', '/api/v1/dispatchRules', { token: sup, body: { position: 5, group: 'nosuch' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'group');
    r = await srv.api('POST', '/api/v1/dispatchRules', { token: sup, body: { position: 5, area: 'GD SZ', group: 'tv' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'area');
  });
});

describe('the clock', () => {
  test('only admins move it, never backwards', async () => {
    const c = (await srv.api('GET', '/api/v1/admin/clock', { token: admin })).json;
    assert.equal(c.mode, 'manual');
    const r = await srv.api('POST', '/api/v1/admin/clock', { token: admin, body: { now: new Date(c.nowMs - 60000).toISOString() } });
    assert.equal(r.status, 400);
    const f = await srv.api('POST', '/api/v1/admin/clock', { token: admin, body: { advanceMs: 60000 } });
    assert.equal(f.json.nowMs, c.nowMs + 60000);
  });
});
