// Accounts and security (P1): login, tokens, roles on every route, rate limiting, audit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT, ADMIN_PW } from './server.mjs';

let srv, admin;
before(async () => { srv = await startServer(); admin = await srv.login('admin', ADMIN_PW); });
after(async () => { await srv.stop(); });

describe('login and tokens', () => {
  test('a demo user logs in and gets a bearer token, user and expiry', async () => {
    const r = await srv.api('POST', '/api/v1/login', { body: { username: 'agent1', password: 'shouye-demo' } });
    assert.equal(r.status, 200);
    assert.ok(r.json.token.length >= 40);
    assert.equal(r.json.tokenType, 'Bearer');
    assert.ok(Date.parse(r.json.expiresAt) > Date.now());
    assert.equal(r.json.user.username, 'agent1');
    assert.deepEqual(r.json.user.roles, ['agent']);
    assert.deepEqual(r.json.user.groups, ['frontline']);
    const me = await srv.api('GET', '/api/v1/me', { token: r.json.token });
    assert.equal(me.json.displayName, '王芳');
  });

  test('a wrong password and an unknown user are both 401, saying nothing more', async () => {
    const a = await srv.api('POST', '/api/v1/login', { body: { username: 'agent2', password: 'nope-nope' } });
    const b = await srv.api('POST', '/api/v1/login', { body: { username: 'nobody', password: 'nope-nope' } });
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.equal(a.json.message, b.json.message);
  });

  test('a missing field in the login is 400 naming it', async () => {
    const r = await srv.api('POST', '/api/v1/login', { body: { username: 'agent1' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'password');
  });

  test('no token, a garbage token: 401 on a protected route', async () => {
    assert.equal((await srv.api('GET', TT)).status, 401);
    const r = await srv.api('GET', TT, { token: 'garbage' });
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'unauthorized');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  });

  test('logout revokes the token at once', async () => {
    const t = await srv.login('agent2');
    assert.equal((await srv.api('GET', TT, { token: t })).status, 200);
    assert.equal((await srv.api('POST', '/api/v1/logout', { token: t })).status, 204);
    assert.equal((await srv.api('GET', TT, { token: t })).status, 401);
  });

  test('repeated wrong passwords are rate limited with Retry-After, even for the right one', async () => {
    let limited = null;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await srv.api('POST', '/api/v1/login', { body: { username: 'engineer1', password: `wrong-${i}` } });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(limited, 'a 429 came within 10 tries');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const right = await srv.api('POST', '/api/v1/login', { body: { username: 'engineer1', password: 'shouye-demo' } });
    assert.equal(right.status, 429);
    // another user from the same address is not locked out by it
    assert.equal((await srv.api('POST', '/api/v1/login', { body: { username: 'qa1', password: 'shouye-demo' } })).status, 200);
  });
});

describe('roles on routes', () => {
  const cases = [
    ['qa1', 'POST', TT, { description: 'x', severity: 'Minor', ticketType: 'inquiry' }],
    ['agent1', 'GET', '/api/v1/audit'],
    ['agent1', 'POST', '/api/v1/users', { username: 'x1', password: 'abcdefgh', displayName: 'x', roles: ['agent'] }],
    ['agent1', 'GET', '/api/v1/users'],
    ['specialist1', 'POST', '/api/v1/slaPolicies', { ticketType: '*', priority: 'Low', customerLevel: '*', responseMinutes: 1, resolutionMinutes: 2 }],
    ['agent1', 'POST', '/api/v1/dispatchRules', { position: 1, group: 'tv' }],
    ['supervisor1', 'POST', '/api/v1/groups', { id: 'g1', name: 'g' }],
    ['supervisor1', 'POST', '/api/v1/admin/clock', { advanceMs: 1 }],
  ];
  for (const [user, method, path, body] of cases) {
    test(`${user} may not ${method} ${path}: 403`, async () => {
      const t = await srv.login(user);
      const r = await srv.api(method, path, { token: t, body });
      assert.equal(r.status, 403);
      assert.equal(r.json.code, 'forbidden');
    });
  }
  test('supervisors read the audit trail and the users', async () => {
    const t = await srv.login('supervisor1');
    assert.equal((await srv.api('GET', '/api/v1/audit', { token: t })).status, 200);
    assert.equal((await srv.api('GET', '/api/v1/users', { token: t })).status, 200);
  });
});

describe('users, groups and the audit trail', () => {
  test('admin creates a user who can then log in; the audit names admin with before and after', async () => {
    const r = await srv.api('POST', '/api/v1/users', { token: admin, body: {
      username: 'agent9', password: 'Str0ng-pass', displayName: '周婷', roles: ['agent'], groups: ['frontline'] } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/api/v1/users/${r.json.id}`);
    assert.equal(r.json.passwordHash, undefined);
    const t = await srv.login('agent9', 'Str0ng-pass');
    assert.ok(t);
    const sup = await srv.login('supervisor1');
    const a = await srv.api('GET', `/api/v1/audit?entityType=user&entityId=${r.json.id}`, { token: sup });
    assert.equal(a.json.length, 1);
    assert.equal(a.json[0].actor, 'admin');
    assert.equal(a.json[0].action, 'create');
    assert.equal(a.json[0].before, null);
    assert.equal(a.json[0].after.username, 'agent9');
    assert.ok(!JSON.stringify(a.json[0]).includes('Str0ng-pass'), 'no password in the audit');
  });

  test('a duplicate username is 409; a bad role or an unknown group 400 naming it', async () => {
    let r = await srv.api('POST', '/api/v1/users', { token: admin, body: { username: 'agent1', password: 'abcdefgh', displayName: 'x', roles: ['agent'] } });
    assert.equal(r.status, 409);
    assert.equal(r.json.field, 'username');
    r = await srv.api('POST', '/api/v1/users', { token: admin, body: { username: 'u2', password: 'abcdefgh', displayName: 'x', roles: ['boss'] } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'roles[0]');
    r = await srv.api('POST', '/api/v1/users', { token: admin, body: { username: 'u3', password: 'abcdefgh', displayName: 'x', roles: ['agent'], groups: ['frontline', 'nosuch'] } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'groups[1]');
    const list = await srv.api('GET', '/api/v1/users?limit=100', { token: admin });
    assert.ok(!list.json.some((u) => u.username === 'u3'), 'nothing was half written');
  });

  test('deactivating a user ends their sessions', async () => {
    const r = await srv.api('POST', '/api/v1/users', { token: admin, body: { username: 'temp1', password: 'abcdefgh', displayName: '临时', roles: ['agent'] } });
    const t = await srv.login('temp1', 'abcdefgh');
    assert.equal((await srv.api('GET', '/api/v1/me', { token: t })).status, 200);
    const p = await srv.api('PATCH', `/api/v1/users/${r.json.id}`, { token: admin, body: { active: false } });
    assert.equal(p.status, 200);
    assert.equal(p.json.active, false);
    assert.equal((await srv.api('GET', '/api/v1/me', { token: t })).status, 401);
    assert.equal((await srv.api('POST', '/api/v1/login', { body: { username: 'temp1', password: 'abcdefgh' } })).status, 401);
  });

  test('groups: create with an escalation target, list members, refuse a bad target', async () => {
    let r = await srv.api('POST', '/api/v1/groups', { token: admin, body: { id: 'iptv2', name: 'IPTV 支撑组', escalationGroup: 'duty' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.escalationGroup, 'duty');
    r = await srv.api('POST', '/api/v1/groups', { token: admin, body: { id: 'iptv3', name: 'x', escalationGroup: 'nosuch' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'escalationGroup');
    r = await srv.api('GET', '/api/v1/groups/broadband', { token: admin });
    assert.deepEqual(r.json.members, ['engineer1', 'specialist1']);
    r = await srv.api('PATCH', '/api/v1/groups/iptv2', { token: admin, body: { escalationGroup: 'iptv2' } });
    assert.equal(r.status, 400);
  });
});
