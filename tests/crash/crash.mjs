// Crash test: load the server with creates, kill -9 it in the middle, restart it on the same
// store, and check that every work order that was answered 201 is there, intact, with its
// ticket.created event, and that event sequence numbers have no gaps.
// usage: node crash.mjs <shouye binary> <db path or postgresql:// url>
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

const [bin, db] = process.argv.slice(2);
const CONCURRENCY = 32;
const LOAD_MS = 1500;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function start(port) {
  const proc = spawn(bin, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`],
                     { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) break; // died on start
    try { if ((await fetch(`${base}/healthz`)).ok) return { proc, base, log: () => log }; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`server did not start:\n${log}`);
}

async function login(base, username = 'agent1') {
  const r = await fetch(`${base}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: 'shouye-demo' }),
  });
  if (r.status !== 200) throw new Error(`login: ${r.status}`);
  return (await r.json()).token;
}

const results = { passed: 0, failed: 0 };
function check(ok, what) {
  if (ok) results.passed++; else { results.failed++; console.error(`FAIL: ${what}`); }
}

const port = await freePort();
let srv = await start(port);
const token = await login(srv.base);
const acked = new Map(); // id -> description
let n = 0, stop = false, errors = 0;
async function worker() {
  while (!stop) {
    const desc = `crash test ${n++} 宽带断线`;
    try {
      const r = await fetch(`${srv.base}/tmf-api/troubleTicket/v4/troubleTicket`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ description: desc, severity: 'Minor', ticketType: 'complaint',
                               category: 'crash', relatedParty: [{ id: `C-${n}`, role: 'customer' }] }),
      });
      if (r.status === 201) acked.set((await r.json()).id, desc);
      else errors++;
    } catch { errors++; }
  }
}
const workers = Array.from({ length: CONCURRENCY }, worker);
await new Promise((r) => setTimeout(r, LOAD_MS));
const aliveUnderLoad = srv.proc.exitCode === null && srv.proc.signalCode === null;
srv.proc.kill('SIGKILL');
stop = true;
await Promise.allSettled(workers);
await new Promise((r) => srv.proc.exitCode !== null || srv.proc.signalCode ? r() : srv.proc.on('exit', r));
console.error(`acknowledged ${acked.size} creates before kill -9 (${errors} cut off in flight)`);
check(aliveUnderLoad, 'the server was still running when killed');
if (!aliveUnderLoad) console.error(srv.log());
check(acked.size > 100, `enough load before the kill (${acked.size} acknowledged)`);

srv = await start(port);
const token2 = await login(srv.base, 'supervisor1'); // reads work orders and the event log
const h = { Authorization: `Bearer ${token2}` };
let missing = 0, wrong = 0;
for (const [id, desc] of acked) {
  const r = await fetch(`${srv.base}/tmf-api/troubleTicket/v4/troubleTicket/${id}`, { headers: h });
  if (r.status !== 200) { missing++; continue; }
  const t = await r.json();
  if (t.description !== desc || t.stage !== 'new' || t.statusChange.length !== 1) wrong++;
}
check(missing === 0, `every acknowledged work order is there after restart (${missing} missing)`);
check(wrong === 0, `every acknowledged work order is intact (${wrong} differ)`);

// the event log: gap-free, and a ticket.created for every acknowledged id
const created = new Set();
let after = 0, expected = 1, gaps = 0;
for (;;) {
  const r = await fetch(`${srv.base}/api/v1/events?after=${after}&limit=1000`, { headers: h });
  if (r.status !== 200) { check(false, `GET /api/v1/events?after=${after}: ${r.status}`); break; }
  const page = await r.json();
  if (!Array.isArray(page) || !page.length) break;
  for (const e of page) {
    if (e.seq !== expected) gaps++;
    expected = e.seq + 1;
    if (e.type === 'ticket.created') created.add(e.entityId);
  }
  after = page[page.length - 1].seq;
}
check(gaps === 0, `event sequence is gap-free (${gaps} gaps)`);
let noEvent = 0;
for (const id of acked.keys()) if (!created.has(id)) noEvent++;
check(noEvent === 0, `every acknowledged work order has its ticket.created event (${noEvent} without)`);

// the store is still writable after recovery
const r = await fetch(`${srv.base}/tmf-api/troubleTicket/v4/troubleTicket`, {
  method: 'POST', headers: { ...h, 'Content-Type': 'application/json' },
  body: JSON.stringify({ description: 'after recovery', severity: 'Minor', ticketType: 'inquiry' }),
});
check(r.status === 201, `a create after recovery answers 201 (got ${r.status})`);
srv.proc.kill('SIGTERM');
await new Promise((res) => srv.proc.on('exit', res));
check(srv.proc.exitCode === 0, `clean shutdown on SIGTERM (exit ${srv.proc.exitCode})`);
if (results.failed) console.error(srv.log());
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed ? 1 : 0);
