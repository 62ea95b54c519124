// The browser workbench in real Chromium (Debian's, driven by playwright-core; no browser
// download): each role signs in, an agent looks up a demo customer under a failing optical
// node and sees the incident banner, creates work orders (one attaches to the incident, one is
// dispatched), switches language; a supervisor watches a breach arrive on the wallboard after
// the clock moves. Screenshots of each screen go to tests/browser/screenshots/ (not committed).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, ADMIN_PW, MIN } from '../api/server.mjs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

let srv, browser, admin, integ;
const figures = {};
before(async () => {
  srv = await startServer({ demoArgs: ['--subscribers', '300'] });
  admin = await srv.login('admin', ADMIN_PW);
  integ = await srv.login('integration1');
  for (const [m, name, vip, at] of [['13900001001', '林晓', true, 'AMP-NS-017-1'], ['13900001002', '周强', false, 'AMP-NS-018-1']]) {
    const r = await srv.api('POST', '/api/v1/subscribers', { token: integ, body: { msisdn: m, name, vip, level: vip ? 'gold' : 'normal', area: 'GD.SZ.NS', attachment: at } });
    assert.equal(r.status, 201);
  }
  const al = await srv.api('POST', '/tmf-api/alarmManagement/v4/alarm', { token: integ, body: {
    alarmType: 'communicationsAlarm', perceivedSeverity: 'critical', probableCause: 'lossOfSignal', alarmedObject: { id: 'ON-NS-017' },
    sourceSystemId: 'nms', state: 'raised', alarmRaisedTime: new Date().toISOString(), affectedService: [{ id: 'broadband' }] } });
  assert.equal(al.status, 201);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'], // playwright gives it a fresh profile
  });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  console.log(`# figures ${JSON.stringify(figures)}`);
});

async function page() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  const p = await ctx.newPage();
  p.errors = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(String(e)));
  return p;
}

async function signIn(p, user) {
  await p.goto(`${srv.base}/`);
  await p.waitForURL(/\/login/);
  await p.fill('#u', user);
  await p.fill('#p', 'shouye-demo');
  await p.click('[data-test=login]');
  await p.waitForSelector('[data-test=who]');
}

describe('in the browser', () => {
  test('a wrong password is refused on the page; the role decides the menu', async () => {
    const p = await page();
    await p.goto(`${srv.base}/login`);
    await p.fill('#u', 'agent1');
    await p.fill('#p', 'wrong');
    await p.click('[data-test=login]');
    await p.waitForSelector('[data-test=login-error]');
    await p.screenshot({ path: `${SHOTS}login.png` });
    await p.fill('#p', 'shouye-demo');
    await p.click('[data-test=login]');
    await p.waitForSelector('[data-test=who]');
    const menu = await p.locator('header nav a').allTextContents();
    assert.deepEqual(menu, ['客户工作台', '故障'], 'an agent has no wallboard');
    assert.deepEqual(p.errors.filter((e) => !/status of 401/.test(e)), [], 'no console errors but the refused sign-in');
    await p.context().close();
  });

  test('every role signs in and gets its own menu', async () => {
    const want = {
      agent1: ['客户工作台', '故障'],
      specialist1: ['二线队列', '故障', '质量图谱'],
      engineer1: ['二线队列', '故障', '质量图谱'],
      supervisor1: ['客户工作台', '二线队列', '故障', '监控大屏', '质量图谱', '审计', '系统设置'],
      qa1: ['故障', '监控大屏'],
      integration1: ['故障'],
    };
    for (const [user, menu] of Object.entries(want)) {
      const p = await page();
      await signIn(p, user);
      assert.deepEqual(await p.locator('header nav a').allTextContents(), menu, user);
      // each lands on a screen of theirs
      await p.waitForSelector('header nav a.router-link-active');
      const active = await p.textContent('header nav a.router-link-active');
      assert.ok(menu.includes(active), `${user} lands on their own screen (${active})`);
      await p.context().close();
    }
  });

  test('an agent looks up a demo customer: plan, balance, bills and records', async () => {
    const p = await page();
    await signIn(p, 'agent2');
    await p.fill('[data-test=search]', '13800000');
    await p.press('[data-test=search]', 'Enter');
    await p.click('text=13800000000');
    await p.waitForSelector('[data-test=profile]');
    assert.match(await p.textContent('main'), /套餐|元/);
    assert.equal(await p.locator('[data-test=bills] details').count(), 6);
    await p.waitForSelector('[data-test=records] tbody tr');
    await p.screenshot({ path: `${SHOTS}workbench-demo-customer.png`, fullPage: true });
    assert.deepEqual(p.errors, []);
    await p.context().close();
  });

  test('an agent finds the caller, sees the incident, and the report attaches to it', async () => {
    const p = await page();
    const t0 = Date.now();
    await signIn(p, 'agent1');
    figures.workbench_first_render_ms = await p.evaluate(() => Math.round(window.__shouyeReady));
    figures.sign_in_to_workbench_ms = Date.now() - t0;
    await p.fill('[data-test=search]', '139000010');
    await p.press('[data-test=search]', 'Enter');
    await p.click('text=13900001001');
    await p.waitForSelector('[data-test=incident-banner]');
    const banner = await p.textContent('[data-test=incident-banner]');
    assert.match(banner, /已知故障/);
    assert.match(banner, /2级故障/);
    assert.match(await p.textContent('[data-test=profile]'), /林晓/);
    await p.waitForSelector('[data-test=bills] details');
    assert.equal(await p.locator('[data-test=bills] details').count(), 6, 'six monthly bills');
    await p.waitForSelector('[data-test=records] tbody tr');
    await p.screenshot({ path: `${SHOTS}workbench-incident.png`, fullPage: true });
    await p.fill('[data-test=description]', '家里宽带无法上网，光猫LOS灯亮');
    await p.click('[data-test=submit]');
    await p.waitForSelector('[data-test=outcome]');
    assert.match(await p.textContent('[data-test=outcome]'), /已关联故障/);
    // a neighbour under another node: dispatched by the rules
    await p.fill('[data-test=search]', '13900001002');
    await p.press('[data-test=search]', 'Enter');
    await p.waitForSelector('[data-test=profile]');
    assert.equal(await p.locator('[data-test=incident-banner]').count(), 0);
    await p.selectOption('[data-test=type]', 'complaint');
    await p.fill('[data-test=description]', '宽带经常掉线，要求上门');
    await p.click('[data-test=submit]');
    await p.waitForSelector('[data-test=outcome]');
    assert.match(await p.textContent('[data-test=outcome]'), /已派发至 broadband/, 'the broadband rule comes first');
    // empty description: the server's error is shown on the field
    await p.fill('[data-test=description]', '');
    await p.click('[data-test=submit]');
    await p.waitForSelector('[data-test=field-error]');
    // English
    await p.click('[data-test=lang]');
    await p.waitForSelector('text=Workbench');
    assert.match(await p.textContent('header nav'), /Incidents/);
    await p.screenshot({ path: `${SHOTS}workbench-en.png`, fullPage: true });
    await p.click('[data-test=lang]');
    assert.deepEqual(p.errors.filter((e) => !/status of 400/.test(e)), [], 'no console errors but the refused empty form');
    await p.context().close();
  });

  test('second line: the group queue by due time, accept, work, a customer-visible note, feedback', async () => {
    const p = await page();
    await signIn(p, 'specialist1');
    await p.click('header nav >> text=二线队列');
    await p.waitForSelector('[data-test=queue] tbody tr');
    const rows = await p.locator('[data-test=queue] tbody tr').count();
    assert.ok(rows >= 1, 'the broadband complaint dispatched by the agent waits here');
    await p.locator('[data-test=queue] tbody tr a').first().click();
    await p.waitForSelector('[data-test=ticket]');
    await p.click('[data-test=to-accepted]');
    await p.waitForSelector('[data-test=to-inProgress]');
    await p.click('[data-test=to-inProgress]');
    await p.waitForSelector('[data-test=to-feedback]');
    await p.fill('[data-test=note]', '已远程重启光猫，请客户观察');
    await p.selectOption('[data-test=visibility]', 'customer');
    await p.click('[data-test=add-note]');
    await p.waitForFunction(() => document.querySelector('[data-test=timeline]').textContent.includes('已远程重启光猫'));
    await p.click('[data-test=to-feedback]');
    await p.waitForFunction(() => document.querySelector('[data-test=ticket] h3').textContent.includes('feedback'));
    const tl = await p.textContent('[data-test=timeline]');
    assert.match(tl, /dispatched → accepted/);
    assert.match(tl, /accepted → inProgress/);
    assert.match(tl, /\[customer\] specialist1/);
    await p.screenshot({ path: `${SHOTS}queue.png`, fullPage: true });
    // the fault ticket of the incident goes to the duty group
    await p.locator('[data-test=queue] tbody tr a').first().click();
    await p.waitForSelector('[data-test=redispatch-group]');
    await p.selectOption('[data-test=redispatch-group]', 'duty');
    await p.click('[data-test=redispatch]');
    await p.waitForFunction(() => document.querySelector('[data-test=timeline]').textContent.includes('redispatched'));
    assert.deepEqual(p.errors, []);
    await p.context().close();
  });

  test('the incident screen shows the open incident and its tracking', async () => {
    const p = await page();
    await signIn(p, 'specialist1');
    await p.goto(`${srv.base}/incidents`);
    await p.waitForSelector('[data-test=incident-detail]');
    assert.match(await p.textContent('[data-test=incidents]'), /ON-NS-017/);
    await p.waitForSelector('[data-test=area-heat] canvas');
    assert.match(await p.textContent('[data-test=notif]'), /来电承诺 1/, 'the caller whose report attached is promised the restore message');
    assert.match(await p.textContent('[data-test=affected]'), /139\*{4}1001/, 'numbers masked for second line');
    await p.screenshot({ path: `${SHOTS}incidents.png`, fullPage: true });
    // the quality map: service × district heat
    await p.click('header nav >> text=质量图谱');
    await p.waitForSelector('[data-test=heatmap] canvas');
    await p.waitForFunction(() => window.__shouyeQuality > 0);
    assert.equal(await p.evaluate(() => window.__shouyeQuality), 12 * 5, '12 districts × 5 services');
    await p.screenshot({ path: `${SHOTS}quality.png`, fullPage: true });
    assert.deepEqual(p.errors, []);
    await p.context().close();
  });

  test('a supervisor sees a breach arrive on the wallboard when the clock moves', async () => {
    const agent = await srv.login('agent1');
    const w = await srv.api('POST', '/tmf-api/troubleTicket/v4/troubleTicket', { token: agent, body: {
      description: '投诉处理超时测试', ticketType: 'complaint', severity: 'Major', relatedParty: [{ id: '13900001002', role: 'customer' }] } });
    assert.equal(w.status, 201);
    assert.equal((await srv.api('PATCH', `/tmf-api/troubleTicket/v4/troubleTicket/${w.json.id}`, { token: agent, body: { stage: 'dispatched' } })).json.assignedGroup, 'complaints');
    const p = await page();
    await signIn(p, 'supervisor1');
    await p.goto(`${srv.base}/wallboard`);
    await p.waitForSelector('canvas');
    const before = await p.textContent('[data-test=sla]');
    const t0 = Date.now();
    await srv.advance(admin, 2 * 24 * 60 * MIN);
    await p.waitForFunction((b) => document.querySelector('[data-test=sla]').textContent !== b, before, { timeout: 10000 });
    figures.wallboard_update_ms = Date.now() - t0;
    await p.waitForFunction(() => Number(document.querySelector('[data-test=escalated]').textContent) >= 1);
    assert.match(await p.textContent('[data-test=events]'), /ticket\.sla(Warning|Breached)/);
    // and the breach stands in the work order's timeline on the second-line screen (escalated
    // from the complaints centre to the duty group)
    const q = await page();
    await signIn(q, 'supervisor1');
    await q.goto(`${srv.base}/queue`);
    await q.selectOption('[data-test=group]', 'duty');
    await q.waitForSelector(`[data-test=due-${w.json.id}]`);
    await q.click(`[data-test=queue] >> text=${w.json.id}`);
    await q.waitForFunction(() => document.querySelector('[data-test=timeline]')?.textContent.includes('SLA超时'));
    await q.context().close();
    await p.screenshot({ path: `${SHOTS}wallboard.png`, fullPage: true });
    assert.deepEqual(p.errors, []);
    await p.context().close();
  });

  test('settings: the server\'s validation error appears under the field; the audit trail shows the change', async () => {
    const p = await page();
    await signIn(p, 'supervisor1');
    await p.click('header nav >> text=系统设置');
    await p.click('[data-test=tab-probes]');
    await p.fill('[data-test=f-name]', '门户拨测');
    await p.selectOption('#f-kind', 'http');
    await p.fill('[data-test=f-target]', 'ftp://portal');
    await p.click('[data-test=save]');
    await p.waitForSelector('[data-test=err-target]');
    assert.match(await p.textContent('[data-test=err-target]'), /http/);
    await p.fill('[data-test=f-target]', `${srv.base}/healthz`);
    await p.click('[data-test=save]');
    await p.waitForSelector('[data-test=saved]');
    assert.match(await p.textContent('[data-test=rows]'), /门户拨测/);
    await p.screenshot({ path: `${SHOTS}settings.png`, fullPage: true });
    await p.click('[data-test=tab-lines]');
    await p.fill('[data-test=f-name]', '福田区宽带投诉');
    await p.fill('[data-test=f-area]', 'GD.SZ.FT');
    await p.fill('[data-test=f-windowMinutes]', '30');
    await p.fill('[data-test=f-level]', '9');
    await p.fill('[data-test=f-threshold]', '5');
    await p.click('[data-test=save]');
    await p.waitForSelector('[data-test=err-level]');
    await p.fill('[data-test=f-level]', '2');
    await p.click('[data-test=save]');
    await p.waitForSelector('[data-test=saved]');
    // edit: the line just made gets a lower threshold
    const row = p.locator('[data-test=rows] tr', { hasText: '福田区宽带投诉' });
    await row.locator('button').first().click();
    await p.fill('[data-test=f-threshold]', '4');
    await p.click('[data-test=save]');
    await p.waitForSelector('[data-test=saved]');
    assert.equal(await row.locator('td').nth(5).textContent(), '4', 'the threshold column');
    await p.click('header nav >> text=审计');
    await p.waitForSelector('[data-test=audit] tbody tr');
    const audit = await p.textContent('[data-test=audit]');
    assert.match(audit, /supervisor1/);
    assert.match(audit, /warningLine/);
    assert.match(audit, /probe/);
    await p.screenshot({ path: `${SHOTS}audit.png`, fullPage: true });
    assert.deepEqual(p.errors.filter((e) => !/status of 400/.test(e)), []);
    await p.context().close();
  });

  test('a session revoked elsewhere: the next action returns to sign-in with a notice', async () => {
    const p = await page();
    await signIn(p, 'agent1');
    const token = await p.evaluate(() => sessionStorage.getItem('shouye.token'));
    assert.equal((await srv.api('POST', '/api/v1/logout', { token })).status, 204);
    await p.fill('[data-test=search]', '139');
    await p.press('[data-test=search]', 'Enter');
    await p.waitForSelector('[data-test=expired]');
    assert.match(await p.url(), /\/login/);
    await p.context().close();
  });

  test('a route of the app survives a reload; logout ends the session', async () => {
    const p = await page();
    await signIn(p, 'agent1');
    await p.goto(`${srv.base}/incidents`);
    await p.reload();
    await p.waitForSelector('header nav');
    await p.click('[data-test=logout]');
    await p.waitForURL(/\/login/);
    await p.goto(`${srv.base}/workbench`);
    await p.waitForURL(/\/login/);
    await p.context().close();
  });
});
