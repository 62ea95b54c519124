// Test harness: a fresh shouye server per test file, on SQLite (default) or on a fresh
// PostgreSQL database (SHOUYE_TEST_BACKEND=pg, SHOUYE_TEST_PG=<url of a server>).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const BIN = process.env.SHOUYE_BIN || new URL('../../build/shouye', import.meta.url).pathname;
export const ADMIN_PW = 'admin-test-pw';
export const DEMO_PW = 'shouye-demo';
export const TT = '/tmf-api/troubleTicket/v4/troubleTicket';

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function newDb(dir) {
  if (process.env.SHOUYE_TEST_BACKEND === 'pg') {
    const base = process.env.SHOUYE_TEST_PG;
    if (!base) throw new Error('SHOUYE_TEST_PG is required for the pg backend');
    const name = `t_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    execFileSync('psql', ['-qX', base, '-c', `CREATE DATABASE ${name}`]);
    return { url: base.replace(/\/[^/]*$/, `/${name}`), drop: () => {
      try { execFileSync('psql', ['-qX', base, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]); } catch {}
    } };
  }
  return { url: join(dir, 't.db'), drop: () => {} };
}

export async function startServer({ manualClock = true, extraArgs = [], demoArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'shouye-api-'));
  const db = newDb(dir);
  const env = { ...process.env, SHOUYE_ADMIN_PASSWORD: ADMIN_PW };
  execFileSync(BIN, ['init', '--db', db.url], { env, stdio: 'pipe' });
  execFileSync(BIN, ['demo', '--db', db.url, ...demoArgs], { env, stdio: 'pipe' });
  const port = await freePort();
  const args = ['serve', '--db', db.url, '--listen', `127.0.0.1:${port}`, ...extraArgs];
  if (manualClock) args.push('--clock=manual');
  let log = '';
  const proc = spawn(BIN, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    try { up = (await fetch(`${base}/healthz`)).ok; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  if (!up) { proc.kill('SIGKILL'); throw new Error(`server did not start:\n${log}`); }
  const srv = {
    base, proc, db: db.url, log: () => log,
    /* restart on the same store and port (after a kill, say) */
    async restart() {
      const p = spawn(BIN, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      p.stderr.on('data', (d) => { log += d; });
      srv.proc = p;
      for (let i = 0; i < 200; i++) {
        try { if ((await fetch(`${base}/healthz`)).ok) return; } catch {}
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server did not restart:\n${log}`);
    },
    async stop() {
      const p = srv.proc; // a test may have restarted the server
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { p.kill('SIGKILL'); r(); }, 10000); p.on('exit', () => { clearTimeout(t); r(); }); });
      }
      db.drop();
      rmSync(dir, { recursive: true, force: true });
      if (/ERROR: AddressSanitizer|runtime error:|LeakSanitizer/.test(log)) throw new Error(`sanitizer report:\n${log}`);
    },
    async api(method, path, { token, body, headers = {}, raw } = {}) {
      const h = { ...headers };
      if (token) h.Authorization = `Bearer ${token}`;
      let payload;
      if (raw !== undefined) payload = raw;
      else if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] ??= 'application/json'; }
      const r = await fetch(`${base}${path}`, { method, headers: h, body: payload });
      const text = await r.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = text; }
      return { status: r.status, headers: r.headers, json };
    },
    async login(username, password = DEMO_PW) {
      const r = await srv.api('POST', '/api/v1/login', { body: { username, password } });
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.token;
    },
    async advance(adminToken, ms) {
      const r = await srv.api('POST', '/api/v1/admin/clock', { token: adminToken, body: { advanceMs: ms } });
      if (r.status !== 200) throw new Error(`clock: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
    /* read the store directly: what reached the phone, which the API never shows */
    sql(query) {
      if (process.env.SHOUYE_TEST_BACKEND === 'pg')
        return execFileSync('psql', ['-qXAt', db.url, '-c', query], { encoding: 'utf8' }).trim();
      return execFileSync('sqlite3', [db.url, query], { encoding: 'utf8' }).trim();
    },
    async events(token, after = 0) {
      const all = [];
      for (;;) {
        const r = await srv.api('GET', `/api/v1/events?after=${after}&limit=1000`, { token });
        if (!r.json.length) return all;
        all.push(...r.json);
        after = r.json[r.json.length - 1].seq;
      }
    },
  };
  return srv;
}

export const MIN = 60000;
export const ms = (iso) => Date.parse(iso);
