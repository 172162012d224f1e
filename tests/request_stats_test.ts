import assert from "node:assert/strict";
import { createRequestStats, percentile } from "../src/request_stats.ts";

Deno.test("percentile: nearest rank", () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 0.5), 50);
  assert.equal(percentile(s, 0.95), 95);
  assert.equal(percentile(s, 1), 100);
  assert.equal(percentile([], 0.5), 0);
  assert.equal(percentile([7], 0.01), 7);
});

Deno.test("per route count, avg, p50, p95, max; slow requests kept, bounded", () => {
  const rs = createRequestStats({ slowMs: 50, now: () => 0, keepSlow: 3 });
  for (let i = 1; i <= 100; i++) rs.record("GET /api/healthz", 200, i);
  rs.record("GET /metrics", 200, 0.25);
  const s = rs.snapshot();
  assert.deepEqual(s.routes["GET /api/healthz"], {
    count: 100,
    avgMs: 50.5,
    p50Ms: 50,
    p95Ms: 95,
    maxMs: 100,
  });
  assert.equal(s.routes["GET /metrics"]?.count, 1);
  assert.equal(s.slow.length, 3);
  assert.deepEqual(s.slow.map((r) => r.ms), [98, 99, 100]);
  assert.equal(s.slowThresholdMs, 50);
});

Deno.test("the latency window is bounded; count and max are not", () => {
  const rs = createRequestStats({ slowMs: 1e9, window: 10 });
  rs.record("r", 200, 1000);
  for (let i = 0; i < 50; i++) rs.record("r", 200, 1);
  const f = rs.snapshot().routes.r!;
  assert.equal(f.count, 51);
  assert.equal(f.maxMs, 1000);
  assert.equal(f.p95Ms, 1, "the old outlier has left the window");
});

Deno.test("reset clears everything and moves 'since'", () => {
  let t = 0;
  const rs = createRequestStats({ slowMs: 1, now: () => t });
  rs.record("r", 200, 5);
  t = 60_000;
  rs.reset();
  assert.deepEqual(rs.snapshot(), {
    since: "1970-01-01T00:01:00.000Z",
    slowThresholdMs: 1,
    routes: {},
    slow: [],
  });
});
