// Events: a gap-free log to page through, and the same log live as Server-Sent Events.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TT } from './server.mjs';

let srv, agent, sup;
before(async () => { srv = await startServer(); agent = await srv.login('agent1'); sup = await srv.login('supervisor1'); });
after(async () => { await srv.stop(); });

const body = { description: '手机上网慢', severity: 'Minor', ticketType: 'faultReport', service: 'mobile' };

async function readUntil(reader, pred, timeoutMs = 5000) {
  const dec = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise((r) => setTimeout(() => r({ timeout: true }), deadline - Date.now()))]);
    if (chunk.timeout || chunk.done) break;
    text += dec.decode(chunk.value, { stream: true });
    if (pred(text)) return text;
  }
  return text;
}

function records(text) {
  return text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => {
    const id = Number(/^id: (\d+)/m.exec(b)[1]);
    const type = /^event: (.+)$/m.exec(b)[1];
    return { id, type, data: JSON.parse(/^data: (.+)$/m.exec(b)[1]) };
  });
}

describe('the event log', () => {
  test('sequence numbers are gap-free and after= returns only later events', async () => {
    for (let i = 0; i < 3; i++) await srv.api('POST', TT, { token: agent, body });
    const all = await srv.events(sup);
    assert.ok(all.length >= 3);
    all.forEach((e, i) => assert.equal(e.seq, i + 1));
    const later = await srv.api('GET', `/api/v1/events?after=${all[1].seq}`, { token: sup });
    assert.deepEqual(later.json.map((e) => e.seq), all.slice(2).map((e) => e.seq));
    assert.equal(later.headers.get('x-last-seq'), String(all[all.length - 1].seq));
    const e = all[0];
    assert.equal(e.type, 'ticket.created');
    assert.equal(e.entityType, 'ticket');
    assert.equal(e.actor, 'agent1');
    assert.equal(e.data.ticketType, 'faultReport');
  });

  test('a refused command leaves no event and no gap', async () => {
    const before = (await srv.events(sup)).length;
    const t = (await srv.api('POST', TT, { token: agent, body })).json;
    assert.equal((await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { stage: 'closed' } })).status, 409);
    const ok = await srv.api('PATCH', `${TT}/${t.id}`, { token: agent, body: { priority: 'High' } });
    assert.equal(ok.status, 200);
    const all = await srv.events(sup);
    all.forEach((e, i) => assert.equal(e.seq, i + 1));
    assert.deepEqual(all.slice(before).map((e) => e.type), ['ticket.created', 'ticket.updated']);
  });
});

describe('the live stream', () => {
  test('a new work order arrives on /api/v1/stream as an SSE record', async () => {
    const ac = new AbortController();
    const r = await fetch(`${srv.base}/api/v1/stream?access_token=${sup}`, { signal: ac.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    const reader = r.body.getReader();
    await readUntil(reader, (t) => t.includes(': shouye stream'));
    const t = (await srv.api('POST', TT, { token: agent, body })).json;
    const text = await readUntil(reader, (x) => x.includes(`"entityId":"${t.id}"`));
    ac.abort();
    const rec = records(text).find((x) => x.data.entityId === t.id);
    assert.ok(rec, `no record for ${t.id} in: ${text}`);
    assert.equal(rec.type, 'ticket.created');
    assert.equal(rec.id, rec.data.seq);
  });

  test('Last-Event-ID replays what was missed, in order', async () => {
    const all = await srv.events(sup);
    const from = all[all.length - 3].seq;
    const ac = new AbortController();
    const r = await fetch(`${srv.base}/api/v1/stream`, { signal: ac.signal, headers: { Authorization: `Bearer ${sup}`, 'Last-Event-ID': String(from) } });
    const text = await readUntil(r.body.getReader(), (x) => records(x).length >= 2);
    ac.abort();
    assert.deepEqual(records(text).map((x) => x.id), all.slice(-2).map((e) => e.seq));
  });

  test('after a restart, a stream resumed from an old id replays from the store', async () => {
    const before = await srv.events(sup);
    srv.proc.kill('SIGKILL');
    await new Promise((r) => srv.proc.on('exit', r));
    await srv.restart();
    const tok = await srv.login('supervisor1');
    const ac = new AbortController();
    const r = await fetch(`${srv.base}/api/v1/stream?after=1&access_token=${tok}`, { signal: ac.signal });
    const text = await readUntil(r.body.getReader(), (x) => records(x).length >= before.length - 1);
    ac.abort();
    assert.deepEqual(records(text).map((x) => x.id), before.slice(1).map((e) => e.seq));
  });

  test('the stream needs a token', async () => {
    assert.equal((await fetch(`${srv.base}/api/v1/stream`)).status, 401);
  });

  test('the log and the stream are for supervisors, QA, admins and integrations, not agents', async () => {
    assert.equal((await srv.api('GET', '/api/v1/events', { token: agent })).status, 403);
    assert.equal((await fetch(`${srv.base}/api/v1/stream?access_token=${agent}`)).status, 403);
    for (const who of ['qa1', 'integration1']) {
      const tok = await srv.login(who);
      assert.equal((await srv.api('GET', '/api/v1/events?limit=1', { token: tok })).status, 200, who);
    }
  });
});

describe('operations', () => {
  test('healthz, readyz and Prometheus metrics', async () => {
    assert.deepEqual((await srv.api('GET', '/healthz')).json, { status: 'ok' });
    const ready = await srv.api('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.engine, 'running');
    const m = await fetch(`${srv.base}/metrics`);
    const text = await m.text();
    assert.match(text, /^shouye_engine_commands_total \d+$/m);
    assert.match(text, /^shouye_event_seq \d+$/m);
    assert.match(text, /shouye_http_responses_total\{class="2xx"\} \d+/);
  });
});
