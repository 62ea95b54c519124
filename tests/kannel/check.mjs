// Kannel check: create a work order for a mobile customer, wait until the SMS reached the
// fake SMSC, decode it (UCS-2, possibly in several parts) and compare it with what shouye
// queued; then wait for the delivery report. Prints "N passed, N failed".
import { readFileSync } from 'node:fs';
const [base, smscLog] = process.argv.slice(2);
const res = { passed: 0, failed: 0 };
const check = (ok, what) => { if (ok) res.passed++; else { res.failed++; console.error(`FAIL: ${what}`); } };
const until = async (f, ms = 15000) => { const end = Date.now() + ms; while (Date.now() < end) { const v = await f(); if (v) return v; await new Promise((r) => setTimeout(r, 100)); } return null; };
const api = async (method, path, token, body) => {
  const r = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null) };
};
const login = async (u, p = 'shouye-demo') => (await api('POST', '/api/v1/login', null, { username: u, password: p })).json.token;

const agent = await login('agent1');
const sup = await login('supervisor1');
const msisdn = '13800138000';
const t = (await api('POST', '/tmf-api/troubleTicket/v4/troubleTicket', agent, {
  description: '光猫红灯，无法上网', severity: 'Major', ticketType: 'faultReport', service: 'broadband',
  relatedParty: [{ id: msisdn, role: 'customer', name: '王先生' }] })).json;
const sms = async () => (await api('GET', `/api/v1/notifications?channel=sms&entityId=${t.id}`, sup)).json[0];
const sent = await until(async () => { const n = await sms(); return n && n.state !== 'pending' && n.state !== 'sending' ? n : null; });
check(sent && (sent.state === 'sent' || sent.state === 'delivered'), `the SMS was handed to Kannel (state ${sent && sent.state}, ${sent && sent.lastError})`);

// fakesmsc logs "<from> <to> ucs-2 <URL-encoded UTF-16BE>" for one part, and
// "<from> <to> udh <header> data <URL-encoded UTF-16BE>" for each part of a long message
// URL encoding of raw bytes: %XX is a byte, '+' a space byte, anything else its own byte
const decode = (enc) => {
  const bytes = [];
  for (let i = 0; i < enc.length; i++) {
    if (enc[i] === '%') { bytes.push(parseInt(enc.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(enc[i] === '+' ? 0x20 : enc.charCodeAt(i));
  }
  const b = Buffer.from(bytes);
  b.swap16();
  return b.toString('utf16le');
};
const expected = sent ? sent.body : '';
const text = await until(() => {
  let lines;
  try { lines = readFileSync(smscLog, 'latin1').split('\n'); } catch { return null; }
  const parts = lines.map((l) => l.match(/<(\S+) (\S+) (?:ucs-2|udh \S+ data) ([^>\s]+)>/)).filter((m) => m && m[2].endsWith(msisdn.slice(-8)));
  const joined = parts.map((m) => decode(m[3])).join('');
  return joined.length >= expected.length ? joined : null;
});
check(text !== null, 'the message reached the SMSC');
check(text === expected, `the Chinese text arrived intact:\n  sent: ${expected}\n  got:  ${text}`);
check(expected.includes(`工单号${t.id}`), 'the text names the work order');

const dlr = await until(async () => { const n = await sms(); return n && n.dlrStatus ? n : null; });
check(dlr !== null, 'a delivery report came back through dlr-url');
console.log(`${res.passed} passed, ${res.failed} failed`);
process.exit(res.failed ? 1 : 0);
