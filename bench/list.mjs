// Sequential timing of filtered list requests (one client, after warm-up).
// usage: node list.mjs BASE TOKEN N QUERY...   → one JSON line per query on stdout
const [base, token, n, ...queries] = process.argv.slice(2);
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
for (const q of queries) {
  const url = `${base}/tmf-api/troubleTicket/v4/troubleTicket?${q}`;
  const h = { Authorization: `Bearer ${token}` };
  let total = null;
  for (let i = 0; i < 5; i++) await (await fetch(url, { headers: h })).text(); // warm-up
  const times = [];
  for (let i = 0; i < Number(n); i++) {
    const t0 = process.hrtime.bigint();
    const r = await fetch(url, { headers: h });
    await r.text();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 200) throw new Error(`${q}: ${r.status}`);
    total = Number(r.headers.get('x-total-count'));
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(JSON.stringify({ query: q, total, p50_ms: +pct(times, 50).toFixed(2), p99_ms: +pct(times, 99).toFixed(2), mean_ms: +mean.toFixed(2) }));
}
