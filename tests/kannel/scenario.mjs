// The issue-4 scenario end to end, with the real parts: an optical node fails; its dial-test
// (a portal this script serves and breaks) fails and an SNMP linkDown trap arrives through
// snmptrapd; exactly one level-2 incident opens with the node as suspected cause; its
// subscribers — and only they — get one SMS each through Kannel, VIPs first; a caller under it
// sees the incident and their complaint attaches; the trap clears and the portal answers
// again, the incident is restored, the complaint closed, and every notified subscriber gets
// the restore message. On the server's manual clock. Prints "N passed, N failed".
//   node scenario.mjs BASE SMSC_LOG TRAPD_PORT ADMIN_PASSWORD
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';

const [base, smscLog, trapPort, adminPw] = process.argv.slice(2);
const res = { passed: 0, failed: 0 };
const check = (ok, what) => { if (ok) res.passed++; else { res.failed++; console.error(`FAIL: ${what}`); } };
const until = async (f, ms = 20000) => { const end = Date.now() + ms; while (Date.now() < end) { const v = await f(); if (v) return v; await new Promise((r) => setTimeout(r, 100)); } return null; };
const api = async (method, path, token, body) => {
  const r = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null) };
};
const login = async (u, p = 'shouye-demo') => (await api('POST', '/api/v1/login', null, { username: u, password: p })).json.token;
const SP = '/tmf-api/serviceProblemManagement/v4/serviceProblem';
const trap = (oid) => execFileSync('snmptrap', ['-v', '2c', '-c', 'public', '-m', '', `127.0.0.1:${trapPort}`, '', oid,
  '.1.3.6.1.2.1.1.5.0', 's', 'ON-NS-017', '.1.3.6.1.2.1.2.2.1.1.1', 'i', '3'], { stdio: 'pipe' });

// what reached the fake SMSC, per recipient, in arrival order (UCS-2, maybe in parts)
const decode = (enc) => {
  const bytes = [];
  for (let i = 0; i < enc.length; i++) {
    if (enc[i] === '%') { bytes.push(parseInt(enc.slice(i + 1, i + 3), 16)); i += 2; } else bytes.push(enc[i] === '+' ? 0x20 : enc.charCodeAt(i));
  }
  const b = Buffer.from(bytes); b.swap16(); return b.toString('utf16le');
};
const bytesOf = (enc) => {
  const bytes = [];
  for (let i = 0; i < enc.length; i++) {
    if (enc[i] === '%') { bytes.push(parseInt(enc.slice(i + 1, i + 3), 16)); i += 2; } else bytes.push(enc[i] === '+' ? 0x20 : enc.charCodeAt(i));
  }
  return bytes;
};
// whole messages in the order their first part arrived: single parts are "ucs-2", the parts
// of a long one carry a UDH (IEI 0: reference, total, sequence)
let seen = 0; // what the SMSC logged before this run (an earlier backend's scenario) is not ours
try { seen = readFileSync(smscLog, 'latin1').length; } catch {}
const arrived = () => {
  let lines;
  try { lines = readFileSync(smscLog, 'latin1').slice(seen).split('\n'); } catch { return []; }
  const out = [], open = new Map();
  for (const l of lines) {
    let m = l.match(/<\S+ (\S+) ucs-2 ([^>\s]+)>/);
    if (m) { out.push({ to: m[1], text: decode(m[2]) }); continue; }
    m = l.match(/<\S+ (\S+) udh (\S+) data ([^>\s]+)>/);
    if (!m) continue;
    const h = bytesOf(m[2]);
    const [ref, total, seq] = h[1] === 0 ? [h[3], h[4], h[5]] : [(h[3] << 8) | h[4], h[5], h[6]];
    const key = `${m[1]}/${ref}`;
    if (!open.has(key)) { const msg = { to: m[1], parts: [], total, text: null }; open.set(key, msg); out.push(msg); }
    const msg = open.get(key);
    msg.parts[seq - 1] = decode(m[3]);
    if (msg.parts.filter((x) => x !== undefined).length === total) { msg.text = msg.parts.join(''); open.delete(key); }
  }
  return out.filter((x) => x.text !== null);
};
const INCIDENT = /网络故障暂时受影响|已恢复正常/;
// the incident's messages to one number (a caller also gets their work order's own SMS)
const textsFor = (msisdn) => arrived().filter((p) => p.to.endsWith(msisdn.slice(-8)) && INCIDENT.test(p.text)).map((p) => p.text);

let broken = false;
const web = http.createServer((req, resp) => { if (broken) { resp.writeHead(503); resp.end('down'); } else { resp.writeHead(200); resp.end('宽带门户 OK'); } });
await new Promise((r) => web.listen(0, '127.0.0.1', r));

const admin = await login('admin', adminPw);
const integ = await login('integration1');
const agent = await login('agent1');
const sup = await login('supervisor1');
const advance = (ms) => api('POST', '/api/v1/admin/clock', admin, { advanceMs: ms });

const under = [['13711110001', 'diamond', true], ['13711110002', 'normal', false], ['13711110003', 'gold', true],
  ['13711110004', 'silver', false], ['13711110005', 'normal', false], ['13711110006', 'gold', false]];
const others = ['13711110011', '13711110012'];
for (const [i, [m, level, vip]] of under.entries())
  await api('POST', '/api/v1/subscribers', integ, { msisdn: m, name: `用户${i}`, level, vip, area: 'GD.SZ.NS', attachment: `AMP-NS-017-${1 + (i % 4)}` });
for (const m of others)
  await api('POST', '/api/v1/subscribers', integ, { msisdn: m, name: '邻区用户', area: 'GD.SZ.NS', attachment: 'AMP-NS-018-1' });

// 1. the dial-test fails
const probe = (await api('POST', '/api/v1/probes', sup, { name: '南山光机017 宽带门户', kind: 'http', target: `http://127.0.0.1:${web.address().port}/`, expectBody: '门户 OK', intervalSeconds: 60, failAfter: 1, level: 2, service: 'broadband', element: 'ON-NS-017' })).json;
check(await until(async () => (await api('GET', `/api/v1/probes/${probe.id}`, agent)).json.state === 'up'), 'the portal probe ran and is up');
broken = true;
await advance(60000);
check(await until(async () => (await api('GET', `/api/v1/probes/${probe.id}`, agent)).json.state === 'down'), 'the portal probe failed');
const open1 = (await api('GET', `${SP}?active=true`, agent)).json;
check(open1.length === 1 && open1[0].level === 2 && open1[0].suspectedElement === 'ON-NS-017', `one level-2 incident on ON-NS-017 (${JSON.stringify(open1.map((x) => [x.level, x.suspectedElement]))})`);
const incident = open1[0]?.id;

// 2. the trap arrives through snmptrapd and joins
trap('.1.3.6.1.6.3.1.1.5.3');
const alarm = await until(async () => (await api('GET', '/tmf-api/alarmManagement/v4/alarm?alarmedObject.id=ON-NS-017&active=true', agent)).json[0]);
check(alarm && alarm.sourceSystemId === 'snmp:127.0.0.1' && alarm.perceivedSeverity === 'critical', 'the linkDown trap became a critical alarm');
check(alarm && alarm.serviceProblem && alarm.serviceProblem.id === incident, 'the alarm joined the incident');
check((await api('GET', `${SP}?active=true`, agent)).json.length === 1, 'still exactly one incident');

// 3. a caller under the node
const ov = (await api('GET', `/api/v1/subscribers/${under[1][0]}/overview`, agent)).json;
check(ov.incidents.length === 1 && ov.incidents[0].id === incident, 'the agent sees the incident on the caller');
const t = (await api('POST', '/tmf-api/troubleTicket/v4/troubleTicket', agent, { description: '宽带断网', ticketType: 'faultReport', severity: 'Major', service: 'broadband', relatedParty: [{ id: under[1][0], role: 'customer' }] })).json;
check(t.stage === 'pending' && t.troubleTicketRelationship?.some((r) => r.id === incident), 'the caller\'s report attached to the incident');

// 4. the SMS through Kannel: one each to the affected, VIPs first, none to the neighbours
// (the server releases one a second: the first step lets the notifier queue them, then each
// second of the clock lets the next one go, so the order they reach the SMSC is the order they
// were meant to go in)
await advance(5000);
for (let k = 1; k <= under.length; k++) {
  await until(() => arrived().filter((p) => INCIDENT.test(p.text)).length >= k, 5000);
  await advance(1000);
}
const openSms = await until(() => { const all = under.map(([m]) => textsFor(m)); return all.every((x) => x.length >= 1) ? all : null; });
const queued = (await api('GET', `/api/v1/notifications?template=incident.opened&entityId=${incident}&limit=100`, sup)).json;
check(openSms !== null, `every affected subscriber got the incident SMS through Kannel (outbox: ${JSON.stringify(queued.map((q) => [q.recipient, q.state, q.lastError]))}; smsc: ${JSON.stringify(arrived().map((a) => a.to))})`);
check(queued.length === under.length, `one queued message per affected subscriber (${queued.length})`);
check(openSms && openSms.every((x, i) => x[0] === queued.find((q) => q.recipient === under[i][0])?.body), 'the Chinese text arrived intact');
check(others.every((m) => textsFor(m).length === 0), 'nobody under the neighbouring node was texted');
const order = arrived().filter((p) => INCIDENT.test(p.text)).map((p) => under.findIndex(([m]) => p.to.endsWith(m.slice(-8)))).filter((i) => i >= 0);
const firstTwo = [...new Set(order)].slice(0, 2).sort();
check(JSON.stringify(firstTwo) === JSON.stringify([0, 2]), `VIPs first (arrival order ${[...new Set(order)]})`);
check([...new Set(order)][2] === 5, `then the gold non-VIP, before silver and normal (arrival order ${[...new Set(order)]})`);

// 5. restore: the trap clears, the portal answers, the probe recovers
trap('.1.3.6.1.6.3.1.1.5.4');
await until(async () => (await api('GET', '/tmf-api/alarmManagement/v4/alarm?alarmedObject.id=ON-NS-017&active=true', agent)).json.length === 0);
check((await api('GET', `${SP}/${incident}`, agent)).json.active === true, 'the incident waits for the dial-test too');
broken = false;
await advance(60000);
const restored = await until(async () => { const s = (await api('GET', `${SP}/${incident}`, agent)).json; return s.stage === 'restore' && s; });
check(restored, 'the incident is restored');
check((await api('GET', `/tmf-api/troubleTicket/v4/troubleTicket/${t.id}`, agent)).json.stage === 'closed', 'the attached report is closed');
await advance(5000);
for (let k = 1; k <= under.length; k++) await advance(1000);
const restoreSms = await until(() => { const all = under.map(([m]) => textsFor(m)); return all.every((x) => x.length >= 2) ? all : null; });
check(restoreSms && restoreSms.every((x) => /已恢复正常/.test(x[1])), 'every notified subscriber got the restore message');
check(under.every(([m]) => textsFor(m).length === 2), 'exactly two messages each (no duplicates)');

web.close();
console.log(`${res.passed} passed, ${res.failed} failed`);
process.exit(res.failed ? 1 : 0);
