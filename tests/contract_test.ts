/**
 * The consumer's side: every key CoreScope's perf page reads from `/api/perf` and
 * `/api/health`, with its type, on a live service: fresh, with no requests yet after a reset,
 * and with the stats file and the database missing. The page has no error handling on the
 * `/api/perf` fetch: one missing key and nothing renders.
 */
import assert from "node:assert/strict";
import { fixtureText, isoSec, tempDir } from "./_helpers.ts";
import { getJson, startService } from "./_service.ts";

type Shape = { [key: string]: string | Shape };

const PERF: Shape = {
  uptime: "number",
  totalRequests: "number",
  avgMs: "number",
  endpoints: "object",
  slowQueries: "array",
  cache: {
    size: "number",
    hits: "number",
    misses: "number",
    staleHits: "number",
    recomputes: "number",
    hitRate: "number",
  },
};
const ENDPOINT: Shape = {
  count: "number",
  avgMs: "number",
  p50Ms: "number",
  p95Ms: "number",
  maxMs: "number",
};
const SLOW: Shape = { path: "string", ms: "number", time: "string", status: "number" };
const HEALTH: Shape = {
  status: "string",
  engine: "string",
  version: "string",
  commit: "string",
  buildTime: "string",
  uptime: "number",
  uptimeHuman: "string",
  memory: { rss: "number", heapUsed: "number", heapTotal: "number", external: "number" },
  eventLoop: {
    currentLagMs: "number",
    maxLagMs: "number",
    p50Ms: "number",
    p95Ms: "number",
    p99Ms: "number",
  },
  cache: {
    entries: "number",
    hits: "number",
    misses: "number",
    staleHits: "number",
    recomputes: "number",
    hitRate: "number",
  },
  websocket: { clients: "number" },
  packetStore: { packets: "number", estimatedMB: "number", trackedMB: "number" },
  perf: { totalRequests: "number", avgMs: "number", slowQueries: "number", recentSlow: "array" },
};

function typeOf(v: unknown): string {
  return Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
}

function assertShape(value: unknown, shape: Shape, at: string): void {
  assert.equal(typeOf(value), "object", at);
  for (const [key, want] of Object.entries(shape)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof want === "string") {
      assert.equal(typeOf(v), want, `${at}.${key}`);
      if (want === "number") assert.ok(Number.isFinite(v), `${at}.${key} is finite`);
    } else assertShape(v, want, `${at}.${key}`);
  }
}

async function checkAll(base: string, state: string): Promise<void> {
  const perf = await getJson(`${base}/api/perf`);
  assert.equal(perf.res.status, 200, state);
  assertShape(perf.body, PERF, `${state} /api/perf`);
  for (const [path, e] of Object.entries(perf.body.endpoints)) {
    assertShape(e, ENDPOINT, `${state} endpoints[${path}]`);
  }
  for (const q of perf.body.slowQueries) assertShape(q, SLOW, `${state} slowQueries[]`);
  for (const k of ["packetStore", "goRuntime"]) assert.equal(k in perf.body, false, k);
  if ("sqlite" in perf.body) assert.ok(perf.body.sqlite.rows || perf.body.sqlite.error);
  const health = await getJson(`${base}/api/health`);
  assert.equal(health.res.status, 200, state);
  assertShape(health.body, HEALTH, `${state} /api/health`);
  assert.notEqual(health.body.engine, "go", "the page shows memory and event-loop cards");
  assert.equal(perf.res.headers.get("x-corescope-load-status"), null);
}

Deno.test("CoreScope's perf page finds every key it reads, in every state", async (t) => {
  using dir = tempDir();
  const statsPath = dir.path("s.json");
  const key = "0123456789abcdef-key";
  const svc = await startService(["--port", "0", "--stats", statsPath, "--db", dir.path("m.db")], {
    env: { CORESCOPE_PERF_API_KEY: key },
  });
  try {
    await t.step("stats file and database missing", () => checkAll(svc.base, "missing"));
    Deno.writeTextFileSync(statsPath, fixtureText(isoSec(Date.now())));
    await t.step("with traffic and a fresh stats file", async () => {
      for (const p of ["/api/healthz", "/api/perf/io", "/metrics"]) {
        await (await fetch(`${svc.base}${p}`)).body?.cancel();
      }
      await checkAll(svc.base, "fresh");
    });
    await t.step("right after POST /api/perf/reset", async () => {
      const unauth = await getJson(`${svc.base}/api/perf/reset`, { method: "POST" });
      assert.deepEqual([unauth.res.status, unauth.body], [401, { error: "unauthorized" }]);
      const ok = await getJson(`${svc.base}/api/perf/reset`, {
        method: "POST",
        headers: { "X-API-Key": key },
      });
      assert.deepEqual([ok.res.status, ok.body], [200, { ok: true }]);
      const { body } = await getJson(`${svc.base}/api/perf`);
      assert.ok(body.totalRequests <= 1, "counting started again");
      await checkAll(svc.base, "after reset");
    });
  } finally {
    await svc.stop();
  }
});
