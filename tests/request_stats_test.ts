import assert from "node:assert/strict";
import { createRequestStats } from "../src/http/request_stats.ts";
import { percentile } from "../src/base/figures.ts";

Deno.test("percentile: nearest rank", () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 0.5), 50);
  assert.equal(percentile(s, 0.95), 95);
  assert.equal(percentile(s, 1), 100);
  assert.equal(percentile([], 0.5), 0);
  assert.equal(percentile([7], 0.01), 7);
});

Deno.test("per endpoint count, avg, p50, p95, max; totals; slow requests kept, bounded", () => {
  const rs = createRequestStats({ slowMs: 50, now: () => 0, keepSlow: 3 });
  for (let i = 1; i <= 100; i++) rs.record("/api/healthz", 200, i);
  rs.record("/metrics", 200, 0.25);
  const f = rs.figures();
  assert.deepEqual(f.endpoints["/api/healthz"], {
    count: 100,
    avgMs: 50.5,
    p50Ms: 50,
    p95Ms: 95,
    maxMs: 100,
  });
  assert.equal(f.endpoints["/metrics"]?.count, 1);
  assert.equal(f.totalRequests, 101);
  assert.equal(f.avgMs, 50);
  assert.deepEqual(f.slowQueries.map((r) => r.ms), [98, 99, 100]);
  assert.deepEqual(Object.keys(f.slowQueries[0]!), ["path", "ms", "time", "status"]);
  assert.equal(f.slowThresholdMs, 50);
});

Deno.test("endpoints are listed by total time, largest first", () => {
  const rs = createRequestStats({ slowMs: 1e9 });
  rs.record("/a", 200, 1);
  rs.record("/b", 200, 5);
  rs.record("/a", 200, 1);
  assert.deepEqual(Object.keys(rs.figures().endpoints), ["/b", "/a"]);
});

Deno.test("the latency window is bounded; count and max are not", () => {
  const rs = createRequestStats({ slowMs: 1e9, window: 10 });
  rs.record("r", 200, 1000);
  for (let i = 0; i < 50; i++) rs.record("r", 200, 1);
  const f = rs.figures().endpoints.r!;
  assert.equal(f.count, 51);
  assert.equal(f.maxMs, 1000);
  assert.equal(f.p95Ms, 1, "the old outlier has left the window");
});

Deno.test("reset clears everything and starts uptime again", () => {
  let t = 0;
  const rs = createRequestStats({ slowMs: 1, now: () => t });
  rs.record("r", 200, 5);
  t = 60_000;
  assert.equal(rs.figures().uptime, 60);
  rs.reset();
  t = 61_500;
  assert.deepEqual(rs.figures(), {
    uptime: 1,
    totalRequests: 0,
    avgMs: 0,
    endpoints: {},
    slowQueries: [],
    since: "1970-01-01T00:01:00.000Z",
    slowThresholdMs: 1,
  });
});

Deno.test("the defaults the README states: p50/p95 over the last 1024 requests of a route, the last 20 slow requests", () => {
  const p95After = (fast: number) => {
    const rs = createRequestStats({ slowMs: 1e9 });
    for (let i = 0; i < 100; i++) rs.record("/api/healthz", 200, 100);
    for (let i = 0; i < fast; i++) rs.record("/api/healthz", 200, 1);
    return rs.figures().endpoints["/api/healthz"]!.p95Ms;
  };
  assert.equal(p95After(970), 100, "54 of the outliers are still among the last 1024");
  assert.equal(p95After(980), 1, "44 left: under 5 % of 1024");
  const rs = createRequestStats({ slowMs: 10, now: () => 0 });
  for (let i = 1; i <= 25; i++) rs.record("/metrics", 200, 100 + i);
  assert.deepEqual(
    rs.figures().slowQueries.map((r) => r.ms),
    Array.from({ length: 20 }, (_, i) => 106 + i),
    "the last 20, oldest first",
  );
});
