/**
 * The dashboard at `GET /`: a page, its style (`/dashboard.css`) and its script
 * (`/dashboard.js`), all embedded in the binary and served by the service itself (no CDN),
 * refreshing every 2 s from the service's own JSON endpoints. Every value from the stats file
 * is put on the page with `textContent` or as an SVG attribute, never parsed as HTML: a
 * forged stats file cannot script the page, and the CSP allows no inline script or style.
 *
 * @module
 */

/** The page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>corescope-perf</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>corescope-perf</h1>
  <span id="status" class="muted">loading…</span>
  <span class="muted">updated <span id="updated">–</span></span>
</header>
<main>
  <section>
    <h2>Disk I/O</h2>
    <table>
      <tr><th></th><th class="num">read/s</th><th class="num">write/s</th><th>10 min (write)</th></tr>
      <tr><td>this service <span id="io-source" class="muted"></span></td><td class="num" id="own-read">–</td><td class="num" id="own-write">–</td><td class="spark"><svg class="spark" id="own-spark" viewBox="0 0 100 22" preserveAspectRatio="none"><polyline points=""/></svg><span class="scale" id="own-scale"></span></td></tr>
      <tr><td>ingestor</td><td class="num" id="ing-read">–</td><td class="num" id="ing-write">–</td><td class="spark"><svg class="spark" id="ing-spark" viewBox="0 0 100 22" preserveAspectRatio="none"><polyline points=""/></svg><span class="scale" id="ing-scale"></span></td></tr>
    </table>
  </section>
  <section>
    <h2>SQLite</h2>
    <div>WAL <span class="big" id="wal-size">–</span></div>
    <svg class="spark" id="wal-spark" viewBox="0 0 100 22" preserveAspectRatio="none"><polyline points=""/></svg><span class="scale" id="wal-scale"></span>
    <div class="muted"><span id="page-count">–</span> pages × <span id="page-size">–</span> B <span id="db-error" class="bad"></span></div>
    <div>checkpoints: <span id="database">–</span></div>
  </section>
  <section>
    <h2>Disk</h2>
    <div><span class="big" id="disk-free">–</span> free <span id="disk-size" class="muted"></span></div>
    <div id="disk-forecast">–</div>
    <div class="muted">database and WAL <span id="db-bytes">–</span></div>
  </section>
  <section>
    <h2>Ingest</h2>
    <div>stats file: <span id="stats-file">–</span> <span id="stats-age" class="muted"></span></div>
    <div>writes: <span id="writes">–</span> · clock: <span id="clock">–</span></div>
    <div>writer lock: <span id="writer-lock">–</span> · disk: <span id="disk">–</span></div>
    <table id="liveness"><tbody></tbody></table>
  </section>
  <section>
    <h2>MQTT</h2>
    <table id="mqtt">
      <thead><tr><th>source</th><th>connected</th><th class="num">last packet</th><th>last error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Write sources</h2>
    <table id="sources">
      <thead><tr><th>source</th><th class="num">total</th><th class="num">now /s</th><th class="num wide" title="the mean rate per second over the last 5 minutes">5-min mean /s</th><th class="spark">10 min</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

/**
 * The page's Content-Security-Policy: its script and style from this origin only, no inline
 * anything, fetches to this origin only, never framed.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The page's style sheet (`GET /dashboard.css`). */
export const DASHBOARD_CSS =
  `:root { --bg:#f7f7f5; --fg:#1d1d1b; --muted:#6b6b66; --card:#fff; --line:#deded8; --ok:#1a7f37; --warn:#b35900; --bad:#c62828; --spark:#2f6fd6; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#121212; --fg:#e8e8e3; --muted:#9a9a93; --card:#1d1d1d; --line:#333; --ok:#4cc26a; --warn:#f0a040; --bad:#ff6b6b; --spark:#6ea8ff; }
}
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { padding:12px 16px; display:flex; flex-wrap:wrap; gap:8px 16px; align-items:baseline; border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0; }
#status { font-weight:600; }
.muted { color:var(--muted); font-size:13px; }
main { display:grid; gap:12px; padding:12px; grid-template-columns:repeat(auto-fit, minmax(min(100%, 340px), 1fr)); }
section.wide { grid-column:1/-1; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; min-width:0; }
h2 { font-size:14px; margin:0 0 8px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
td, th { padding:3px 4px; text-align:left; border-bottom:1px solid var(--line); vertical-align:middle; }
td.num, th.num { text-align:right; }
svg.spark { width:100%; min-width:40px; max-width:110px; height:22px; display:block; }
td.spark { width:30%; }
.scale { font-size:11px; color:var(--muted); }
svg.spark polyline { fill:none; stroke:var(--spark); stroke-width:1.5; }
.ok, .fresh, .yes { color:var(--ok); } .write_stalled, .stale, .unknown, .invalid { color:var(--warn); }
.low, .contended { color:var(--warn); }
.stalled, .missing, .bad, .down, .write_failing, .disconnected, .clock_wrong, .checkpoint_starved, .milliseconds, .ahead, .no, .full { color:var(--bad); }
.never { color:var(--muted); }
td.err { word-break:break-word; font-size:13px; }
.flag { color:var(--bad); font-weight:700; }
.big { font-size:22px; font-weight:600; }
section { overflow-x:auto; }
@media (max-width: 520px) {
  main { padding:8px; gap:8px; }
  /* Columns that can go on a phone; never a whole section. */
  td.wide, th.wide { display:none; }
  td, th { padding:3px 2px; }
}
`;

/** The page's script (`GET /dashboard.js`). */
export const DASHBOARD_JS = `"use strict";
const $ = (id) => document.getElementById(id);
const setText = (el, v) => { el.textContent = v; };
function bytes(n) {
  if (typeof n !== "number" || !isFinite(n)) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + u[i];
}
function num(n, d) { return typeof n === "number" && isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d ?? 0 }) : "–"; }
// Scaled from 0 to the 95th percentile: one spike (the first sample after a start) no longer
// flattens the rest; what stands above the scale is drawn at the top. Returns the scale's top.
function spark(svg, values) {
  const line = svg.querySelector("polyline");
  const v = values.filter((x) => typeof x === "number" && isFinite(x));
  if (v.length < 2) { line.setAttribute("points", ""); return undefined; }
  const sorted = [...v].sort((a, b) => a - b);
  const top = sorted[Math.floor(0.95 * (sorted.length - 1))] || sorted[sorted.length - 1] || 1;
  const pts = v.map((x, i) => (i * 100 / (v.length - 1)).toFixed(2) + "," + (21 - Math.min(1, x / top) * 20).toFixed(2));
  line.setAttribute("points", pts.join(" "));
  return top;
}
function scale(el, top, fmt) { setText(el, top === undefined ? "" : "top " + fmt(top)); }
function newSpark() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 100 22");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.appendChild(document.createElementNS(ns, "polyline"));
  return svg;
}
function rates(samples, name) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    const x = a.sources && a.sources[name], y = b.sources && b.sources[name];
    out.push(typeof x === "number" && typeof y === "number" && y >= x ? (y - x) / Math.max(0.001, (b.t - a.t) / 1000) : 0);
  }
  return out;
}
function row(tbody, key) {
  for (const tr of tbody.rows) if (tr.dataset.key === key) return tr;
  const tr = document.createElement("tr");
  tr.dataset.key = key;
  tbody.appendChild(tr);
  return tr;
}
function cells(tr, n) {
  while (tr.cells.length < n) tr.appendChild(document.createElement("td"));
  return tr.cells;
}
async function getJson(path) {
  const res = await fetch(path, { cache: "no-store" });
  if (!res.ok && res.status !== 503) throw new Error(path + ": " + res.status);
  return res.json();
}
function showIo(io, samples) {
  setText($("own-read"), bytes(io.readBytesPerSec) + "/s");
  setText($("own-write"), bytes(io.writeBytesPerSec) + "/s");
  setText($("io-source"), "(" + io.ioSource + ")");
  setText($("ing-read"), io.ingestor ? bytes(io.ingestor.readBytesPerSec) + "/s" : "stale");
  setText($("ing-write"), io.ingestor ? bytes(io.ingestor.writeBytesPerSec) + "/s" : "stale");
  const perSec = (n) => bytes(n) + "/s";
  scale($("own-scale"), spark($("own-spark"), samples.map((s) => s.writeBytesPerSec)), perSec);
  scale($("ing-scale"), spark($("ing-spark"), samples.map((s) => s.ingestorWriteBytesPerSec)), perSec);
}
function showSqlite(sql, samples, ingest) {
  setText($("wal-size"), bytes(sql.walSize));
  $("wal-size").dataset.value = String(sql.walSize);
  setText($("page-count"), num(sql.pageCount));
  $("page-count").dataset.value = String(sql.pageCount);
  setText($("page-size"), num(sql.pageSize));
  setText($("db-error"), sql.error || "");
  scale($("wal-scale"), spark($("wal-spark"), samples.map((s) => s.walSize)), bytes);
  word("database", ingest.database);
}
function word(id, v) {
  const el = $(id);
  setText(el, String(v || "–").replace(/_/g, " "));
  el.className = v || "";
  el.dataset.verdict = v || "";
}
function duration(sec) {
  if (sec < 90) return Math.round(sec) + " s";
  if (sec < 3600) return Math.round(sec / 60) + " min";
  if (sec < 2 * 86400) return Math.round(sec / 3600) + " h";
  return Math.round(sec / 86400) + " days";
}
function showDisk(ingest) {
  const d = ingest.diskSpace;
  word("disk", ingest.disk);
  setText($("disk-free"), d ? bytes(d.freeBytes) : "–");
  $("disk-free").className = "big " + (ingest.disk || "");
  setText($("disk-size"), d ? "of " + bytes(d.sizeBytes) : "");
  setText($("db-bytes"), d ? bytes(d.databaseBytes) + (d.learning ? "" : ", growing " + bytes(d.growthBytesPerSec) + "/s") : "–");
  const f = $("disk-forecast");
  f.dataset.verdict = ingest.disk || "";
  if (!d) setText(f, ingest.disk === "unknown" ? "the filesystem cannot be read (see check)" : "–");
  else if (d.learning) setText(f, "learning the rate (" + duration(d.spanSec) + " of the " + duration(d.windowSec / 4) + " it needs)");
  else if (d.fullInSec === undefined) setText(f, "not filling up over the last " + duration(d.spanSec));
  else setText(f, "full in about " + duration(d.fullInSec) + " at the last " + duration(d.spanSec) + "'s rate");
}
function showIngest(hz, ws, ingest, now) {
  const sf = $("stats-file");
  setText(sf, ingest.statsFile); sf.className = ingest.statsFile;
  word("writes", ingest.writes);
  word("clock", ingest.clock);
  word("writer-lock", ingest.writerLock);
  showDisk(ingest);
  setText($("stats-age"), typeof ws.ageSec === "number" ? "(" + num(ws.ageSec, 1) + " s old)" : "");
  const live = hz.ingest_liveness || {};
  const ltb = $("liveness").tBodies[0];
  for (const [name, verdict] of Object.entries(ingest.sources || {})) {
    const tr = row(ltb, name);
    tr.dataset.name = name;
    tr.dataset.verdict = verdict;
    const c = cells(tr, 4);
    setText(c[0], name);
    setText(c[1], verdict.replace(/_/g, " ")); c[1].className = verdict;
    const l = Object.hasOwn(live, name) ? live[name] : {};
    setText(c[2], l.lastReceiptUnix ? "rx " + num(now - l.lastReceiptUnix) + " s ago" : "rx never");
    setText(c[3], l.lastMessageUnix ? "db " + num(now - l.lastMessageUnix) + " s ago" : "db never");
  }
  for (const tr of [...ltb.rows]) if (!Object.hasOwn(ingest.sources || {}, tr.dataset.key)) tr.remove();
}
function showMqtt(mq, now) {
  const mtb = $("mqtt").tBodies[0];
  const rows = mq.sources || [];
  for (const s of rows) {
    const tr = row(mtb, s.name);
    tr.dataset.mqtt = s.name;
    tr.dataset.connected = s.connected ? "1" : "0";
    const c = cells(tr, 4);
    setText(c[0], s.name);
    setText(c[1], s.connected ? "yes" : "no"); c[1].className = s.connected ? "yes" : "no";
    setText(c[2], s.lastPacketUnix ? num(now - s.lastPacketUnix) + " s ago" : "never"); c[2].className = "num";
    setText(c[3], s.lastError || ""); c[3].className = "err";
  }
  for (const tr of [...mtb.rows]) if (!rows.some((s) => s.name === tr.dataset.key)) tr.remove();
}
function showSources(ws, hist, samples) {
  const stb = $("sources").tBodies[0];
  const derived = hist.writeSources || {};
  for (const [name, total] of Object.entries(ws.sources || {})) {
    const tr = row(stb, name);
    tr.dataset.source = name;
    const c = cells(tr, 6);
    const d = Object.hasOwn(derived, name) ? derived[name] : undefined;
    setText(c[0], name);
    setText(c[1], num(total)); c[1].className = "num total"; c[1].dataset.value = String(total);
    setText(c[2], d ? num(d.ratePerSec, 1) : "–"); c[2].className = "num rate";
    // The baseline is the same unit as the rate (per second), a 5-minute mean: until there
    // are 5 minutes of samples it says so instead of a figure the first seconds would skew.
    setText(c[3], !d ? "–" : d.learning ? "learning" : num(d.baselinePerSec, 1));
    c[3].className = "num wide baseline" + (d && d.learning ? " muted" : "");
    if (!c[4].firstChild) c[4].appendChild(newSpark());
    c[4].className = "spark";
    spark(c[4].firstChild, rates(samples, name));
    setText(c[5], d && d.anomaly ? "⚠ over 10× baseline" : ""); c[5].className = d && d.anomaly ? "flag" : "";
    tr.dataset.anomaly = d && d.anomaly ? "1" : "0";
  }
  for (const tr of [...stb.rows]) if (!Object.hasOwn(ws.sources || {}, tr.dataset.key)) tr.remove();
}
function showStatus(hz, ingest) {
  // Down: the ingestor's file is stale or gone (a dead or hung ingestor), in red.
  const st = $("status");
  setText(st, hz.ready === false ? "not ready" : "ingest " + ingest.status);
  st.className = hz.ready === false ? "bad" : ingest.status === "ok" ? "ok" : ingest.status === "down" ? "bad" : "stale";
  st.dataset.status = hz.ready === false ? "not_ready" : ingest.status;
}
async function refresh() {
  try {
    const [io, sql, ws, hz, hist, mq] = await Promise.all([
      getJson("/api/perf/io"), getJson("/api/perf/sqlite"), getJson("/api/perf/write-sources"),
      getJson("/api/healthz"), getJson("/api/perf/history"), getJson("/api/mqtt/status"),
    ]);
    const samples = hist.samples || [];
    const ingest = hz.ingest || { statsFile: "missing", sources: {}, status: "down" };
    const now = Date.now() / 1000;
    showIo(io, samples);
    showSqlite(sql, samples, ingest);
    showIngest(hz, ws, ingest, now);
    showMqtt(mq, now);
    showSources(ws, hist, samples);
    showStatus(hz, ingest);
    setText($("updated"), new Date().toLocaleTimeString());
    document.body.dataset.ready = "1";
  } catch (err) {
    setText($("status"), "cannot reach the service: " + err.message);
    $("status").className = "bad";
  }
}
refresh();
setInterval(refresh, 2000);
`;
