import assert from "node:assert/strict";
import { createHandler, ROUTES } from "../src/http/routes.ts";
import type { Services } from "../src/http/services.ts";
import { DEFAULTS } from "../src/app/config.ts";
import type { IoRates } from "../src/inputs/io_sampler.ts";
import { silentLogger } from "../src/base/log.ts";
import { startServer } from "../src/app/listener.ts";
import type { StatsState } from "../src/inputs/stats_cache.ts";
import { parseStatsSnapshot } from "../src/inputs/stats_snapshot.ts";
import { createRequestStats } from "../src/http/request_stats.ts";
import {
  createResponseBudget,
  MAX_BYTES_IN_FLIGHT,
  MAX_BYTES_PER_CONNECTION,
  RESPONSE_COST_BYTES,
  STREAM_MIN_BYTES,
} from "../src/http/response_budget.ts";
import { captureLogger, fixtureText, isoSec, tempDir, TEST_POLICY } from "./_helpers.ts";

const NOW = Date.parse("2026-11-23T12:00:02Z");
const RATES: IoRates = {
  readBytesPerSec: 1,
  writeBytesPerSec: 2,
  cancelledWriteBytesPerSec: 3,
  syscallsRead: 4,
  syscallsWrite: 5,
  ioSource: "procfs",
  sampledAt: "2026-11-23T12:00:01.500Z",
  windowSec: 1,
};

function stateOf(text: string | undefined): StatsState {
  if (text === undefined) {
    return { kind: "unavailable", version: 1, reason: "missing", detail: "gone" };
  }
  const p = parseStatsSnapshot(text);
  return p.ok
    ? { kind: "ok", version: 1, snapshot: p.snapshot }
    : { kind: "unavailable", version: 1, reason: "invalid", detail: p.error };
}

function services(text: string | undefined, over: Partial<Services> = {}): Services {
  const state = stateOf(text);
  return {
    policy: TEST_POLICY,
    facts: () => ({ restarts: 0 }),
    now: () => NOW,
    ioRates: () => RATES,
    ioCounters: () => ({ read_bytes: 4096n, write_bytes: 8192n, syscr: 10n, syscw: 20n }),
    stats: () => state,
    statsCounters: () => ({ hits: 3, misses: 1, opens: 1, parses: 1, versions: 1, deferred: 0 }),
    sqlite: () => ({
      walSizeMB: 0.5,
      walSize: 524288,
      pageCount: 10,
      pageSize: 4096,
      cacheSize: -2000,
    }),
    readiness: () => ({ ready: true }),
    requests: createRequestStats({ slowMs: 100, now: () => NOW }),
    history: () => [],
    eventLoop: () => ({ currentLagMs: 0.1, maxLagMs: 4, p50Ms: 0.1, p95Ms: 1.2, p99Ms: 3 }),
    memory: () => ({ rss: 50 << 20, heapUsed: 8 << 20, heapTotal: 16 << 20, external: 1 << 20 }),
    process: () => ({ cpuSeconds: 1.5, residentBytes: 50 << 20, startTimeSeconds: 1763899000 }),
    startedAt: NOW - 3_725_000,
    version: "0.1.0",
    apiKey: "",
    allowedHosts: [],
    budget: createResponseBudget(),
    log: silentLogger,
    ...over,
  };
}

const FRESH = fixtureText("2026-11-23T12:00:00Z");

/** One request through the whole handler (Host check, bounds, timing, routes). */
function request(svc: Services, path: string, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (!headers.has("host")) headers.set("host", "localhost");
  const req = new Request(`http://${headers.get("host")}${path}`, { ...init, headers });
  return Promise.resolve(createHandler(svc)(req));
}

async function get(svc: Services, path: string, init?: RequestInit) {
  const res = await request(svc, path, init);
  const text = await res.text();
  return { res, text, body: text ? JSON.parse(text) : undefined };
}

Deno.test("every response is JSON and no-store", async () => {
  for (
    const path of [
      "/api/perf/io",
      "/api/perf/sqlite",
      "/api/perf/write-sources",
      "/api/healthz",
      "/api/mqtt/status",
      "/nope",
    ]
  ) {
    const { res } = await get(services(FRESH), path);
    assert.equal(res.headers.get("content-type"), "application/json", path);
    assert.equal(res.headers.get("cache-control"), "no-store", path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("x-corescope-load-status"), null);
  }
  // The two that are not JSON: the dashboard (HTML) and /metrics (Prometheus text).
  for (
    const [path, type] of [["/", /^text\/html/], [
      "/metrics",
      /^text\/plain; version=0\.0\.4/,
    ]] as const
  ) {
    const res = await request(services(FRESH), path);
    await res.body?.cancel();
    assert.match(res.headers.get("content-type") ?? "", type, path);
    assert.equal(res.headers.get("cache-control"), "no-store", path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
  }
});

Deno.test("/api/perf/io: rates in contract order, plus the fresh ingestor sample as is", async () => {
  const { text, body } = await get(services(FRESH), "/api/perf/io");
  assert.deepEqual(Object.keys(body).slice(0, 5), [
    "readBytesPerSec",
    "writeBytesPerSec",
    "cancelledWriteBytesPerSec",
    "syscallsRead",
    "syscallsWrite",
  ]);
  assert.equal(body.ioSource, "procfs");
  assert.deepEqual(body.ingestor, {
    readBytesPerSec: 4096,
    writeBytesPerSec: 851968,
    cancelledWriteBytesPerSec: 0,
    syscallsRead: 12.5,
    syscallsWrite: 210.25,
    sampledAt: "2026-11-23T12:00:00Z",
  });
  assert.ok(text.endsWith('"sampledAt":"2026-11-23T12:00:00Z"}}'));
});

Deno.test("/api/perf/io: ingestor absent when stale, missing, malformed, stampless or in the future", async () => {
  const stale = fixtureText("2026-11-23T11:59:56Z"); // 6 s old
  const future = fixtureText("2026-11-23T12:00:05Z"); // 3 s ahead, beyond 2 s of skew
  const noStamp = JSON.stringify({ procIO: { readBytesPerSec: 1 } });
  for (
    const text of [
      stale,
      future,
      noStamp,
      "{oops",
      undefined,
      '{"sampledAt": "2026-11-23T12:00:00Z"}',
    ]
  ) {
    const { res, body } = await get(services(text), "/api/perf/io");
    assert.equal(res.status, 200);
    assert.equal("ingestor" in body, false, String(text).slice(0, 40));
    assert.equal(body.readBytesPerSec, 1);
  }
});

Deno.test("/api/perf/io: a procIO-only stamp works (and is judged for staleness)", async () => {
  const doc = JSON.parse(FRESH);
  delete doc.sampledAt;
  assert.ok((await get(services(JSON.stringify(doc)), "/api/perf/io")).body.ingestor);
  doc.procIO.sampledAt = "2026-11-23T11:00:00Z";
  assert.equal((await get(services(JSON.stringify(doc)), "/api/perf/io")).body.ingestor, undefined);
});

Deno.test("/api/perf/sqlite: contract keys; cacheHitRate 0, as CoreScope without a store", async () => {
  const { body } = await get(services(FRESH), "/api/perf/sqlite");
  assert.deepEqual(body, {
    walSizeMB: 0.5,
    walSize: 524288,
    pageCount: 10,
    pageSize: 4096,
    cacheSize: -2000,
    cacheHitRate: 0,
  });
  const failing = services(FRESH, {
    sqlite: () => ({
      walSizeMB: 0,
      walSize: 0,
      pageCount: 0,
      pageSize: 0,
      cacheSize: 0,
      error: "gone",
    }),
  });
  const r = await get(failing, "/api/perf/sqlite");
  assert.equal(r.res.status, 200);
  assert.equal(r.body.error, "gone");
  assert.equal(r.body.pageCount, 0);
});

Deno.test("/api/perf/write-sources: nine counters, backfill_*, writer_perf, sampleAt, staleness", async () => {
  const { body } = await get(services(FRESH), "/api/perf/write-sources");
  assert.deepEqual(body.sources, {
    backfill_from_pubkey: 3310,
    backfill_observer_iata: 0,
    backfill_path_json: 12044,
    groupCommitFlushes: 0,
    node_upserts: 96012,
    obs_inserted: 7420913,
    observer_upserts: 40177,
    sig_drops: 118,
    tx_dupes: 502117,
    tx_inserted: 1843201,
    walCommits: 1911034,
    write_errors: 3,
  });
  assert.equal(body.sampleAt, "2026-11-23T12:00:00Z");
  assert.deepEqual(Object.keys(body.writer_perf), [
    "mqtt_handler",
    "neighbor_builder",
    "prune_packets",
  ]);
  assert.equal(body.writer_perf.prune_packets.hold_ms_max, 900);
  assert.equal(body.stale, false);
  assert.equal(body.ageSec, 2);
});

Deno.test("/api/perf/write-sources: missing or unparseable file gives the empty shape, 200", async () => {
  for (const text of [undefined, "{oops", "[]", "null"]) {
    const { res, body } = await get(services(text), "/api/perf/write-sources");
    assert.equal(res.status, 200);
    assert.deepEqual(body.sources, {});
    assert.equal(body.sampleAt, "");
    assert.equal("writer_perf" in body, false);
    assert.equal(body.stale, true);
  }
});

Deno.test("/api/perf/write-sources: an old file is served but marked stale with its age", async () => {
  const { body } = await get(
    services(fixtureText("2026-11-23T11:00:00Z")),
    "/api/perf/write-sources",
  );
  assert.equal(body.sources.tx_inserted, 1843201);
  assert.equal(body.stale, true);
  assert.equal(body.ageSec, 3602);
  const older = JSON.parse(fixtureText("2026-11-23T12:00:00Z"));
  delete older.writer_perf;
  const r = await get(services(JSON.stringify(older)), "/api/perf/write-sources");
  assert.deepEqual(r.body.writer_perf, {}, "an older ingestor without writer_perf gives {}");
});

Deno.test("/api/perf/write-sources: one bad field does not hide the others", async () => {
  const doc = JSON.parse(FRESH);
  doc.tx_inserted = "many";
  doc.source_liveness = "broken";
  const { body } = await get(services(JSON.stringify(doc)), "/api/perf/write-sources");
  assert.equal(body.sources.tx_inserted, undefined);
  assert.equal(body.sources.obs_inserted, 7420913);
});

Deno.test("/api/healthz: ready with ingest_liveness; HEAD without a body; 503 while not ready", async () => {
  const { res, body } = await get(services(FRESH), "/api/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(body, {
    ready: true,
    ingest_liveness: {
      local: { lastReceiptUnix: 1763899199, lastMessageUnix: 1763899199 },
      regional: { lastReceiptUnix: 1763899198, lastMessageUnix: 1763898950 },
    },
    // Additive: the fixture's clocks are a year older than NOW, so "local" is stalled;
    // "regional" says connected: false, which is disconnected at once, with its last error.
    ingest: {
      status: "degraded",
      statsFile: "fresh",
      sources: { local: "stalled", regional: "disconnected" },
      writes: "unknown",
      database: "ok",
      clock: "ok",
      // No disk reading and no window of writer_perf in this in-process test.
      disk: "unknown",
      writerLock: "unknown",
      lastErrors: {
        regional: "dial mqtts://viewer:****@broker.example.net:8883: connection refused",
      },
    },
  });
  for (const k of ["loadedTx", "loadedObs", "from_pubkey_backfill"]) assert.equal(k in body, false);
  const head = await get(services(FRESH), "/api/healthz", { method: "HEAD" });
  assert.equal(head.res.status, 200);
  assert.equal(head.text, "");
  const draining = services(FRESH, {
    readiness: () => ({ ready: false, reason: "shutting down" }),
  });
  const r = await get(draining, "/api/healthz");
  assert.equal(r.res.status, 503);
  assert.deepEqual(r.body, { ready: false, reason: "shutting down" });
});

Deno.test("/api/healthz: ingest_liveness absent when the map is missing, empty or invalid", async () => {
  for (const text of [undefined, "{}", '{"source_liveness": {}}', '{"source_liveness": 3}']) {
    const { res, body } = await get(services(text), "/api/healthz");
    assert.equal(res.status, 200);
    assert.equal(body.ready, true);
    assert.equal("ingest_liveness" in body, false);
    assert.deepEqual(body.ingest.sources, {});
  }
  const doc = JSON.parse(FRESH);
  doc.tx_inserted = "wrong"; // a bad field elsewhere must not hide liveness
  assert.ok((await get(services(JSON.stringify(doc)), "/api/healthz")).body.ingest_liveness);
});

Deno.test("/api/mqtt/status: sorted, masked, omissions as in Go", async () => {
  const doc = JSON.parse(FRESH);
  doc.source_statuses.reverse();
  doc.source_statuses.push({ name: "", broker: "mqtt://u:pw%40x@[::1]:1883", lastError: "" });
  const { text, body } = await get(services(JSON.stringify(doc)), "/api/mqtt/status");
  assert.deepEqual(body.sources.map((s: { name: string }) => s.name), ["", "local", "regional"]);
  assert.equal(body.sources[1].broker, "mqtt://ingest:****@127.0.0.1:1883");
  assert.equal(
    body.sources[2].lastError,
    "dial mqtts://viewer:****@broker.example.net:8883: connection refused",
  );
  assert.equal("lastError" in body.sources[0], false);
  assert.equal(body.watchdogLastTickUnix, 1763899180);
  assert.equal("watchdogPanicCount" in body, false, "0 is omitted");
  for (const secret of ["s3cret", "hunter2", "pw%40x"]) assert.ok(!text.includes(secret), secret);
  const missing = await get(services(undefined), "/api/mqtt/status");
  assert.deepEqual([missing.body.sources, missing.body.sampleAt], [[], ""]);
});

Deno.test("unknown path is 404 JSON; wrong method is 405 JSON with Allow", async () => {
  const nf = await get(services(FRESH), "/api/nothing");
  assert.equal(nf.res.status, 404);
  assert.ok(nf.body.error);
  const na = await get(services(FRESH), "/api/perf/io", { method: "POST" });
  assert.equal(na.res.status, 405);
  assert.equal(na.res.headers.get("allow"), "GET, HEAD");
  assert.ok(na.body.error);
  const odd = await get(services(FRESH), "/api/perf/io", { method: "XSCRIPTX" });
  assert.equal(odd.res.status, 405);
  assert.doesNotMatch(odd.text, /XSCRIPTX/, "the method is not echoed");
});

Deno.test("through the real runtime: files on disk, staleness judged at every request", async () => {
  using t = tempDir();
  const statsPath = t.path("stats.json");
  let now = Date.now();
  Deno.writeTextFileSync(statsPath, fixtureText(isoSec(now)));
  const server = startServer(
    { ...DEFAULTS, port: 0, statsPath, dbPath: t.path("none.db"), procIoPath: t.path("io") },
    silentLogger,
    { now: () => now },
  );
  try {
    const svc = server.runtime.services;
    const io = async () => (await (await request(svc, "/api/perf/io")).json()).ingestor;
    assert.ok(await io());
    now += 6000; // the file is untouched: a cached parse, judged again
    assert.equal(await io(), undefined);
    assert.equal(server.runtime.statsCache.counters().parses, 1);
    const sqlite = await (await request(svc, "/api/perf/sqlite")).json();
    assert.equal(sqlite.pageCount, 0);
    assert.match(sqlite.error, /does not exist/);
  } finally {
    await server.stop();
  }
});

Deno.test("/livez and /readyz; OPTIONS on health paths", async () => {
  assert.deepEqual((await get(services(undefined), "/livez")).body, { alive: true });
  assert.deepEqual((await get(services(undefined), "/readyz")).body, { ready: true });
  const draining = services(FRESH, {
    readiness: () => ({ ready: false, reason: "shutting down" }),
  });
  const r = await get(draining, "/readyz");
  assert.equal(r.res.status, 503);
  assert.equal((await get(draining, "/livez")).res.status, 200, "alive while draining");
  for (const path of ["/api/healthz", "/livez", "/readyz"]) {
    const { res, text } = await get(services(FRESH), path, { method: "OPTIONS" });
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.equal(text, "");
  }
});

Deno.test("/api/perf: CoreScope's shape; endpoints by route name only, largest total first", async () => {
  const svc = services(FRESH);
  for (let i = 0; i < 3; i++) await request(svc, "/api/healthz");
  await request(svc, "/no/such/path/1");
  await request(svc, "/<img src=x onerror=alert(1)>");
  await request(svc, "/api/healthz", { method: "BREW" });
  const { body } = await get(svc, "/api/perf");
  assert.deepEqual(Object.keys(body), [
    "uptime",
    "totalRequests",
    "avgMs",
    "endpoints",
    "slowQueries",
    "since",
    "slowThresholdMs",
    "cache",
  ]);
  assert.equal(body.endpoints["/api/healthz"].count, 4);
  assert.equal(body.endpoints.other.count, 2, "raw paths never become keys");
  assert.equal(body.totalRequests, 6);
  for (const k of ["count", "avgMs", "p50Ms", "p95Ms", "maxMs"]) {
    assert.equal(typeof body.endpoints["/api/healthz"][k], "number");
  }
  assert.deepEqual(body.slowQueries, []);
  assert.deepEqual(body.cache, {
    size: 1,
    hits: 3,
    misses: 1,
    staleHits: 0,
    recomputes: 1,
    hitRate: 75,
  });
  for (const k of ["packetStore", "goRuntime", "sqlite"]) assert.equal(k in body, false, k);
});

Deno.test("/api/health: CoreScope's shape with engine deno, memory and event-loop figures", async () => {
  const { res, body } = await get(services(FRESH), "/api/health");
  assert.equal(res.status, 200);
  assert.equal(body.status, "ok");
  assert.equal(body.engine, "deno");
  assert.equal(body.uptime, 3725);
  assert.equal(body.uptimeHuman, "1h 2m");
  assert.deepEqual(body.memory, { rss: 50, heapUsed: 8, heapTotal: 16, external: 1 });
  assert.deepEqual(body.eventLoop, {
    currentLagMs: 0.1,
    maxLagMs: 4,
    p50Ms: 0.1,
    p95Ms: 1.2,
    p99Ms: 3,
  });
  assert.deepEqual(Object.keys(body.cache), [
    "entries",
    "hits",
    "misses",
    "staleHits",
    "recomputes",
    "hitRate",
  ]);
  assert.deepEqual(body.websocket, { clients: 0 });
  assert.deepEqual(body.packetStore, { packets: 0, estimatedMB: 0, trackedMB: 0 });
  assert.deepEqual(Object.keys(body.perf), ["totalRequests", "avgMs", "slowQueries", "recentSlow"]);
});

Deno.test("POST /api/perf/reset: 403 when disabled, 401 {error: unauthorized} without or with a wrong key, {ok: true} right", async () => {
  const KEY = "0123456789abcdef-key";
  const post = (svc: Services, headers: HeadersInit = {}) =>
    get(svc, "/api/perf/reset", { method: "POST", headers });
  assert.equal((await post(services(FRESH))).res.status, 403);
  const svc = services(FRESH, { apiKey: KEY });
  await request(svc, "/api/healthz");
  const attempts: HeadersInit[] = [{}, { "x-api-key": "wrong-key-wrong-key" }, {
    authorization: "Bearer nope",
  }];
  for (const headers of attempts) {
    const r = await post(svc, headers);
    assert.deepEqual([r.res.status, r.body], [401, { error: "unauthorized" }]);
  }
  assert.equal(svc.requests.figures().endpoints["/api/healthz"]?.count, 1, "not reset yet");
  const ok = await post(svc, { "x-api-key": KEY });
  assert.deepEqual([ok.res.status, ok.body], [200, { ok: true }]);
  assert.equal(svc.requests.figures().endpoints["/api/healthz"], undefined);
  const bearer = await post(svc, { authorization: `Bearer ${KEY}` });
  assert.deepEqual([bearer.res.status, bearer.body], [200, { ok: true }], "Bearer also works");
  assert.equal((await get(svc, "/api/perf/reset")).res.status, 405, "GET is not a reset");
});

Deno.test({
  name:
    "Host over the wire: 421 for a name not allowed, 400 for one malformed; the authority the request is addressed to decides",
  sanitizeResources: false,
  async fn() {
    const svc = services(FRESH, { allowedHosts: ["localhost", "127.0.0.1", "[::1]"] });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      createHandler(svc),
    );
    const port = server.addr.port;
    const status = async (head: string) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await c.write(new TextEncoder().encode(`${head}\r\n\r\n`));
        const buf = new Uint8Array(4096);
        const n = await c.read(buf);
        const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
        return { status: Number(text.split(" ")[1]), text };
      } finally {
        c.close();
      }
    };
    const get = (host: string) => status(`GET /api/healthz HTTP/1.1\r\nHost: ${host}`);
    assert.equal((await get("evil.example:8080")).status, 421);
    assert.equal((await get("LOCALHOST:8080")).status, 200);
    assert.equal((await get("127.0.0.1")).status, 200);
    assert.equal((await get("[::1]:8080")).status, 200);
    for (const bad of ["[::1]evil.example", "localhost:80@evil", "localhost:1, evil", "a b"]) {
      const r = await get(bad);
      assert.equal(r.status, 400, bad);
      assert.doesNotMatch(r.text.split("\r\n\r\n")[1]!, /evil/, "the value is not echoed");
    }
    // An absolute-form target is what the request is addressed to.
    const abs = await status("GET http://evil.example/api/healthz HTTP/1.1\r\nHost: localhost");
    assert.equal(abs.status, 421);
    // HTTP/1.0 without Host, or an empty Host: Deno names the address it reached (localhost).
    assert.equal((await status("GET /api/healthz HTTP/1.0")).status, 200);
    assert.equal((await status("GET /api/healthz HTTP/1.1\r\nHost:")).status, 200);
    // Two Host headers: Deno's own 400, before any handler.
    assert.equal((await status("GET /api/healthz HTTP/1.1\r\nHost: a\r\nHost: b")).status, 400);
    await server.shutdown();
  },
});

Deno.test("/api/perf/history: samples and derived write rates", async () => {
  const s = (t: number, tx: number) => ({
    t,
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    walSize: 0,
    sources: { tx_inserted: tx },
  });
  const { body } = await get(
    services(FRESH, { history: () => [s(0, 0), s(1000, 5)] }),
    "/api/perf/history",
  );
  assert.equal(body.intervalSec, 1);
  assert.equal(body.samples.length, 2);
  assert.deepEqual(body.writeSources.tx_inserted, {
    ratePerSec: 5,
    baselinePerSec: 0,
    learning: true,
    anomaly: false,
  });
});

Deno.test("GET / is the dashboard: its style and script from this service only, no inline code, strict CSP", async () => {
  const svc = services(FRESH);
  const { res, text } = await get2(svc, "/");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const csp = res.headers.get("content-security-policy") ?? "";
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'"]) {
    assert.ok(csp.split("; ").includes(d), csp);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  const refs = [...text.matchAll(/<(?:script|link|img)[^>]+(?:src|href)="([^"]*)"/gi)].map((m) =>
    m[1]
  );
  assert.deepEqual(refs.sort(), ["/dashboard.css", "/dashboard.js"], "nothing from elsewhere");
  assert.doesNotMatch(text, /<script>|<style>|\sstyle=|\son[a-z]+=/i, "no inline script or style");
  const js = await get2(svc, "/dashboard.js");
  assert.equal(js.res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.doesNotMatch(
    js.text,
    /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
    "no HTML parsing of data",
  );
  const css = await get2(svc, "/dashboard.css");
  assert.equal(css.res.headers.get("content-type"), "text/css; charset=utf-8");
  assert.doesNotMatch(css.text, /url\(|@import/, "nothing loaded from elsewhere");
});

async function get2(svc: Services, path: string) {
  const res = await request(svc, path);
  return { res, text: await res.text() };
}

Deno.test("no password leaves through any endpoint", async () => {
  const doc = JSON.parse(FRESH);
  doc.source_liveness["mqtt://u:leak1@h:1"] = { lastReceiptUnix: 1, lastMessageUnix: 1 };
  doc.source_statuses.push({
    name: "",
    broker: "wss://u:le@k2@[::1]:443/mqtt",
    lastError: "x tcp://:leak3@h:1 y",
  });
  const svc = services(JSON.stringify(doc));
  for (const path of Object.keys(ROUTES)) {
    const { text } = await get2(svc, path);
    for (const secret of ["leak1", "le@k2", "leak3", "s3cret", "hunter2"]) {
      assert.ok(!text.includes(secret), `${secret} in ${path}`);
    }
  }
});

Deno.test("oversized bodies get 413, before any handler", async () => {
  const svc = services(FRESH, { apiKey: "0123456789abcdef-key" });
  const body = await get(svc, "/api/perf/reset", {
    method: "POST",
    headers: { "content-length": String(10_000_000) },
  });
  assert.equal(body.res.status, 413);
  const bad = await get(svc, "/api/perf/reset", {
    method: "POST",
    headers: { "content-length": "lots" },
  });
  assert.equal(bad.res.status, 413, "an unparseable length is not trusted");
  const twice = await get(svc, "/api/perf/reset", {
    method: "POST",
    headers: [["content-length", "5"], ["content-length", "5"]],
  });
  assert.notEqual(twice.res.status, 413, "two identical Content-Length headers are one length");
  assert.equal(
    (await get(svc, "/api/healthz", { headers: { "x-filler": "a".repeat(8_000) } })).res.status,
    200,
  );
});

Deno.test("/api/healthz: verdicts are judged at the real time, to the millisecond, also when cached", async () => {
  const s = Math.floor(NOW / 1000);
  const doc = JSON.parse(FRESH);
  doc.source_liveness = { late: { lastReceiptUnix: s, lastMessageUnix: s - 60 } };
  let now = s * 1000; // 60 s after the last write: at writeStaleAfterSec (60), still ok
  const svc = services(JSON.stringify(doc), { now: () => now });
  const verdict = async () => (await get(svc, "/api/healthz")).body.ingest.sources.late;
  assert.equal(await verdict(), "ok");
  now = s * 1000 + 1; // 60.001 s: past it
  assert.equal(await verdict(), "write_stalled");
  now = s * 1000; // the clock back: judged again, not served from the cache
  assert.equal(await verdict(), "ok");
  now = s * 1000 + 999;
  assert.equal(await verdict(), "write_stalled");
});

Deno.test("a 404 never echoes the path it was asked for", async () => {
  const path = "/api/%3Cscript%3Ealert(1)%3C/script%3E-probe";
  const nf = await get(services(FRESH), path);
  assert.equal(nf.res.status, 404);
  assert.ok(!nf.text.includes("script") && !nf.text.includes("probe"), nf.text);
});

Deno.test("POST /api/perf/reset: a wrong key is logged (never the key), at most 30 lines a minute; /api/health's uptime is the process's", async () => {
  const KEY = "0123456789abcdef-key";
  const log = captureLogger();
  let now = NOW;
  const svc = services(FRESH, {
    apiKey: KEY,
    log,
    now: () => now,
    requests: createRequestStats({ slowMs: 100, now: () => now }),
  });
  const post = (key: string) =>
    get(svc, "/api/perf/reset", { method: "POST", headers: { "x-api-key": key } });
  for (let i = 0; i < 50; i++) assert.equal((await post("guess-guess-guess")).res.status, 401);
  const wrong = log.lines.filter((l) => l.includes("wrong API key"));
  assert.equal(wrong.length, 30, "rate-limited to 30 lines a minute");
  assert.ok(!log.lines.some((l) => l.includes("guess-guess")), "the key tried is never logged");
  now = NOW + 10_000;
  assert.equal((await post(KEY)).res.status, 200);
  assert.equal((await get(svc, "/api/perf")).body.uptime, 0, "/api/perf starts again");
  assert.equal((await get(svc, "/api/health")).body.uptime, 3735, "the process's uptime goes on");
});

Deno.test("/api/perf cache.size is 1 while a stats version is cached, 0 when there is none", async () => {
  assert.equal((await get(services(FRESH), "/api/perf")).body.cache.size, 1);
  assert.equal((await get(services(undefined), "/api/perf")).body.cache.size, 0);
  assert.equal((await get(services(FRESH), "/api/health")).body.cache.entries, 1);
});

Deno.test("/api/health: perf.slowQueries counts the slow requests kept, recentSlow is the last 5", async () => {
  const svc = services(FRESH);
  for (let i = 1; i <= 8; i++) svc.requests.record("/metrics", 200, 100 + i);
  const { body } = await get(svc, "/api/health");
  assert.equal(body.perf.slowQueries, 8);
  assert.deepEqual(body.perf.recentSlow.map((r: { ms: number }) => r.ms), [
    104,
    105,
    106,
    107,
    108,
  ]);
});

import { until } from "./_helpers.ts";
import { h2cStreams } from "./_h2c.ts";

/** A history of 600 samples with 64 sources of the longest names the parser keeps (~11 MB). */
function longHistory() {
  const names = Array.from({ length: 64 }, (_, i) => `${"n".repeat(124)}${i}`.padEnd(129, "…"));
  return Array.from({ length: 600 }, (_, k) => ({
    t: k * 1000,
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    walSize: 0,
    sources: Object.fromEntries(names.map((n) => [`backfill_${n}`, k])),
    liveness: Object.fromEntries(names.map((n) => [n, "ok" as const])),
  }));
}

Deno.test({
  name:
    "answers nobody reads share one body and count until sent: 100 unread HTTP/1.1 connections, 3 x 200 h2c streams",
  sanitizeResources: false,
  async fn() {
    const history = longHistory();
    const svc = services(FRESH, { history: () => history });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      createHandler(svc),
    );
    const port = server.addr.port, host = `127.0.0.1:${port}`;
    const first = await (await fetch(`http://${host}/api/perf/history`)).text();
    const size = new TextEncoder().encode(first).length;
    assert.ok(size > 10_000_000, `${size} bytes`);
    assert.equal(JSON.parse(first).samples.length, 600);
    const again = await (await fetch(`http://${host}/api/perf/history`)).text();
    assert.equal(again, first, "the shared bytes are sent whole again");
    const conns: Deno.TcpConn[] = [];
    const get = new TextEncoder().encode(`GET /api/perf/history HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    for (let i = 0; i < 100; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(get);
      conns.push(c);
    }
    await until(() => svc.requests.figures().totalRequests >= 102, "100 requests answered");
    // HTTP/2 streams whose :authority names the target (with a Host, and without).
    const h2 = await h2cStreams(port, "/api/perf/history", host, 200);
    const bare = await h2cStreams(port, "/api/perf/history", undefined, 200);
    // Each connection holds at most 1 MiB of answers in flight (21 of its 200 streams), all
    // of them 16 MiB, the 11 MB body counted once; the rest are 503.
    const perConnection = Math.floor(MAX_BYTES_PER_CONNECTION / RESPONSE_COST_BYTES);
    const ok = (h2.statuses[200] ?? 0) + (bare.statuses[200] ?? 0);
    for (const s of [h2.statuses, bare.statuses]) {
      assert.equal((s[200] ?? 0) + (s[503] ?? 0), 600, JSON.stringify(s));
    }
    assert.ok(ok > 0 && ok <= 6 * perConnection, JSON.stringify([h2.statuses, bare.statuses]));
    const held = svc.budget.pinnedBytes();
    assert.ok(held <= MAX_BYTES_IN_FLIGHT, `${held} bytes in flight`);
    assert.equal(held, size + (100 + ok) * RESPONSE_COST_BYTES, "one body, and each answer");
    // Clients that go away release what they held.
    for (const c of conns) c.close();
    await h2.close();
    await bare.close();
    await until(() => svc.budget.pinnedBytes() === 0, "the budget to be released");
    await server.shutdown();
  },
});

Deno.test({
  name:
    "answers just under the streaming size take the fast path, and answers at it are counted, in bytes",
  sanitizeResources: false,
  async fn() {
    // Source rows whose last error is 500 3-byte characters: three of them are under 4,096
    // characters but over 4,096 bytes, so counted; one is not.
    const bodyWith = (rows: number) => {
      const doc = JSON.parse(FRESH);
      doc.source_statuses = Array.from({ length: rows }, (_, i) => ({
        name: `s${i}`,
        broker: "mqtt://h",
        connected: false,
        lastError: "\u20ac".repeat(500),
      }));
      return services(JSON.stringify(doc));
    };
    for (const [rows, counted] of [[1, false], [3, true]] as const) {
      const svc = bodyWith(rows);
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        createHandler(svc),
      );
      const port = server.addr.port, host = `127.0.0.1:${port}`;
      const text = await (await fetch(`http://${host}/api/mqtt/status`)).text();
      const bytes = new TextEncoder().encode(text).length;
      assert.equal(bytes >= STREAM_MIN_BYTES, counted, `${text.length} characters, ${bytes} bytes`);
      assert.ok(text.length < STREAM_MIN_BYTES);
      const h2 = await h2cStreams(port, "/api/mqtt/status", host, 20);
      assert.deepEqual(h2.statuses, { 200: 60 });
      assert.equal(svc.budget.pinnedBytes() > 0, counted);
      await h2.close();
      await until(() => svc.budget.pinnedBytes() === 0, "the budget to be released");
      await server.shutdown();
    }
  },
});

Deno.test("what CoreScope's perf page puts into HTML stays inert: no markup from a hostile file reaches a body", async () => {
  for (const evil of ["<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"]) {
    const doc = JSON.parse(FRESH);
    doc.sampledAt = evil;
    doc.backfillUpdates = { [evil]: 1, path_json: 2 };
    doc.writer_perf = { [evil]: { count: 1 } };
    doc.procIO.sampledAt = evil;
    const svc = services(JSON.stringify(doc));
    for (
      const path of Object.keys(ROUTES).filter((p) =>
        p.startsWith("/api/") && p !== "/api/perf/reset"
      )
    ) {
      const { text } = await get(svc, path);
      assert.ok(!text.includes("<"), `${path}: ${text.slice(0, 200)}`);
    }
    const ws = (await get(svc, "/api/perf/write-sources")).body;
    assert.equal(ws.sampleAt, "");
    assert.deepEqual(Object.keys(ws.sources).filter((k) => k.startsWith("backfill_")), [
      "backfill_path_json",
    ]);
  }
});
