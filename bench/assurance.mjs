// Assurance figures against a running server on the demo operator (issue 4): signal ingestion
// through the batch endpoint (complaint signals and alarms mixed), the time from the crossing
// signal to incident.opened, the impact computation for an element with ~100,000 subscribers,
// and how fast the proactive notifications are enqueued. JSON lines on stdout.
//   node bench/assurance.mjs BASE ADMIN_PASSWORD SUBSCRIBERS HEALTHZ_RPS
const [base, adminPw, subsArg, healthzArg] = process.argv.slice(2);
const SUBS = Number(subsArg);
const HEALTHZ = Number(healthzArg);

async function api(method, path, token, body) {
  const r = await fetch(base + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}
async function login(username, password) {
  const r = await fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return (await r.json()).token;
}
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const r2 = (x) => Math.round(x * 100) / 100;
const prefixes = ['138', '139', '135', '136', '137', '150', '151', '152', '157', '158', '159', '182', '183', '187', '188', '198'];
const msisdn = (n) => `${prefixes[n % 16]}${String(Math.floor(n / 16)).padStart(8, '0')}`; // demo_msisdn
const districts = ['GD.GZ.TH', 'GD.GZ.YX', 'GD.GZ.HZ', 'GD.SZ.NS', 'GD.SZ.FT', 'GD.SZ.LG', 'GD.SZ.BA', 'GD.FS.NH', 'GD.FS.SD', 'GD.DG.CA', 'GD.ZH.XZ', 'GD.ST.JP'];
const services = ['broadband', 'tv', 'mobile', 'iptv', 'voice'];

const admin = await login('admin', adminPw);
const integ = await login('integration1', 'shouye-demo');
const sup = await login('supervisor1', 'shouye-demo');

// the steady state: the server has built its subscriber directory (a background pass after
// start) before the clock starts
const metric = async (name) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
};
for (let i = 0; i < 600 && (await metric('shouye_directory_ready')) !== 1; i++)
  await new Promise((ok) => setTimeout(ok, 100));
const directoryMb = Math.round((await metric('shouye_directory_bytes')) / 1048576 * 10) / 10;

// a quiet stage: no warning lines during the raw ingestion figure
for (const l of (await api('GET', '/api/v1/warningLines', admin)).json)
  await api('DELETE', `/api/v1/warningLines/${l.id}`, admin);

// 1. ingestion: batches of 5000, 90 % complaint signals from subscribers, 10 % alarms
let seq = 0;
function batch(n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    seq++;
    if (seq % 10 === 0) {
      const amp = `AMP-${districts[seq % 12].split('.')[2]}-${String(seq % 50).padStart(3, '0')}-${1 + (seq % 4)}`;
      items.push({ kind: 'alarm', alarm: {
        alarmType: 'qualityOfServiceAlarm', perceivedSeverity: 'minor', probableCause: 'signalLevelLow',
        alarmedObject: { id: amp }, sourceSystemId: 'bench', state: (seq / 10) % 2 ? 'raised' : 'cleared',
        alarmRaisedTime: new Date().toISOString(),
      } });
    } else {
      items.push({ kind: seq % 3 ? 'complaint' : 'faultReport', service: services[seq % 5], msisdn: msisdn((seq * 7919) % SUBS) });
    }
  }
  return { items };
}
{
  const BATCH = 5000, PAR = 4, ROUNDS = 10;
  // the request bodies are made before the clock starts: the figure is the server's, not the
  // load generator's (node shares the two cores with it)
  const bodies = Array.from({ length: PAR * ROUNDS }, () => JSON.stringify(batch(BATCH)));
  const post = async (body) => {
    const r = await fetch(`${base}/api/v1/signals`, { method: 'POST', headers: { Authorization: `Bearer ${integ}`, 'Content-Type': 'application/json' }, body });
    return { status: r.status, json: await r.json() };
  };
  const t0 = performance.now();
  let total = 0, errors = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const res = await Promise.all(bodies.slice(r * PAR, (r + 1) * PAR).map(post));
    for (const x of res) { if (x.status === 200) total += x.json.accepted; else errors++; }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ bench: 'signals_ingest', items: total, seconds: r2(s), per_s: Math.round(total / s), batch: BATCH, parallel: PAR, errors, directory_mb: directoryMb, healthz_rps: HEALTHZ, ratio: r2(total / s / HEALTHZ) }));
}

// 2. crossing → incident.opened: a line with threshold 3 on one grid; each round resets the line
//    (PUT), sends the crossing signal and times it; then restores the incident.
{
  const line = (await api('POST', '/api/v1/warningLines', sup, { name: 'bench', service: 'broadband', area: 'GD.ZH.XZ.G01', windowMinutes: 60, threshold: 3, level: 3 })).json;
  const body = { name: 'bench', service: 'broadband', area: 'GD.ZH.XZ.G01', windowMinutes: 60, threshold: 3, level: 3 };
  const seed = { items: [0, 1, 2].map(() => ({ kind: 'complaint', service: 'broadband', area: 'GD.ZH.XZ.G01' })) };
  await api('POST', '/api/v1/signals', integ, seed);
  const lat = [];
  let opened = 0;
  for (let i = 0; i < 60; i++) {
    await api('PUT', `/api/v1/warningLines/${line.id}`, sup, body);
    const t = performance.now();
    await api('POST', '/api/v1/signals', integ, { items: [{ kind: 'complaint', service: 'broadband', area: 'GD.ZH.XZ.G01' }] });
    lat.push(performance.now() - t);
    const open = (await api('GET', '/tmf-api/serviceProblemManagement/v4/serviceProblem?active=true&limit=5', sup)).json;
    for (const sp of open) {
      opened++;
      await api('PATCH', `/tmf-api/serviceProblemManagement/v4/serviceProblem/${sp.id}`, sup, { stage: 'restore' });
    }
  }
  console.log(JSON.stringify({ bench: 'crossing_to_incident', rounds: lat.length, incidents: opened, p50_ms: r2(pct(lat, 0.5)), p99_ms: r2(pct(lat, 0.99)), note: 'HTTP round trip of the crossing signal: commit of signal + line + incident + plan + impact' }));
}

// 3. impact for the smallest element with at least 100,000 subscribers under it (the goal's
//    size; at 1,000,000 demo lines that is the whole cable network, ~200,000 — the largest
//    headend has ~67,000), and the enqueue rate
{
  let best = null;
  const heads = (await api('GET', '/api/v1/elements?parent=CABLE&limit=100', sup)).json;
  const cores = (await api('GET', '/api/v1/elements?parent=MOBILE&limit=100', sup)).json;
  for (const h of [{ id: 'CABLE' }, { id: 'MOBILE' }, ...heads, ...cores]) {
    const e = (await api('GET', `/api/v1/elements/${h.id}`, sup)).json;
    const fits = (x) => x.subscribersUnder >= 100000;
    if (!best || (fits(e) && (!fits(best) || e.subscribersUnder < best.subscribersUnder)) ||
        (!fits(e) && !fits(best) && e.subscribersUnder > best.subscribersUnder)) best = e;
  }
  const t0 = performance.now();
  const r = await api('POST', '/tmf-api/serviceProblemManagement/v4/serviceProblem', sup, {
    category: 'network', description: 'bench impact', priority: 1, reason: 'bench', originatorParty: { id: 'bench' },
    affectedResource: [{ id: best.id }],
  });
  const openMs = performance.now() - t0;
  let toQueue = 1, sp;
  while (toQueue > 0) {
    sp = (await api('GET', `/tmf-api/serviceProblemManagement/v4/serviceProblem/${r.json.id}`, sup)).json;
    toQueue = sp.notifications.toQueue;
    if (toQueue > 0) await new Promise((res) => setTimeout(res, 20));
  }
  const allMs = performance.now() - t0;
  console.log(JSON.stringify({ bench: 'incident_impact', element: best.id, affected: sp.affectedNumberOfServices, open_ms: r2(openMs), note: 'HTTP round trip of opening by hand: incident, emergency plan (fault ticket created and dispatched, on-duty SMS), impact counted over the covering index, one commit' }));
  const enqMs = allMs - openMs;
  console.log(JSON.stringify({ bench: 'notifications_enqueue', messages: sp.notifications.openQueued, seconds: r2(enqMs / 1000), per_s: Math.round(sp.notifications.openQueued / (enqMs / 1000)), note: 'from the open answer until every affected subscriber has an outbox row (VIP first, in turns of 10,000 on the engine thread), polled every 20 ms' }));
  // leave the store as found: the incident is restored (its restore messages are not measured)
  await api('PATCH', `/tmf-api/serviceProblemManagement/v4/serviceProblem/${r.json.id}`, sup, { stage: 'restore' });
}
