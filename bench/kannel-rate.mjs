// SMS delivered per second through the real Kannel (bearerbox, smsbox, fake SMSC on loopback):
// open an incident on an element and time the proactive messages from the open answer until
// every one is handed to Kannel (state sent or delivered) and has reached the fake SMSC.
//   node bench/kannel-rate.mjs BASE SMSC_LOG
import { readFileSync } from 'node:fs';
const [base, smscLog] = process.argv.slice(2);
const api = async (method, path, token, body) => {
  const r = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null), total: Number(r.headers.get('x-total-count')) };
};
const login = async (u) => (await api('POST', '/api/v1/login', null, { username: u, password: 'shouye-demo' })).json.token;
const sup = await login('supervisor1');
let best = null;
for (const h of (await api('GET', '/api/v1/elements?parent=CABLE&limit=100', sup)).json) {
  const e = (await api('GET', `/api/v1/elements/${h.id}`, sup)).json;
  if (e.subscribersUnder <= 3000 && (!best || e.subscribersUnder > best.subscribersUnder)) best = e;
}
const before = (() => { try { return readFileSync(smscLog, 'latin1').split('\n').length; } catch { return 0; } })();
const t0 = performance.now();
const sp = (await api('POST', '/tmf-api/serviceProblemManagement/v4/serviceProblem', sup, {
  category: 'network', description: 'bench', priority: 1, reason: 'bench', originatorParty: { id: 'bench' }, affectedResource: [{ id: best.id }] })).json;
const n = sp.affectedNumberOfServices;
const q = (state) => api('GET', `/api/v1/notifications?template=incident.opened&entityId=${sp.id}&state=${state}&limit=1`, sup);
let handed = 0, arrivedN = 0;
for (let i = 0; i < 6000; i++) {
  handed = (await q('sent')).total + (await q('delivered')).total;
  const lines = readFileSync(smscLog, 'latin1').split('\n').length - before;
  arrivedN = lines;
  if (handed >= n && arrivedN >= n) break;
  await new Promise((r) => setTimeout(r, 50));
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ bench: 'sms_through_kannel', messages: n, handed_to_kannel: handed, smsc_lines: arrivedN, seconds: Math.round(s * 100) / 100, per_s: Math.round(Math.min(handed, n) / s), note: 'one sender thread, up to 32 sendsms requests in flight; fakesmsc logs one line per part (a long Chinese text is 2-3 parts)' }));
