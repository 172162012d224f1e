/** The event-loop lag sampler behind `/api/health`'s `eventLoop` block. */
import assert from "node:assert/strict";
import { createLagSampler } from "../src/inputs/event_loop.ts";

Deno.test("a blocked event loop shows as the timer's lateness against its schedule", async () => {
  const s = createLagSampler({ intervalMs: 20 });
  try {
    await new Promise((r) => setTimeout(r, 100)); // a few on-time firings
    const t0 = performance.now();
    while (performance.now() - t0 < 250) { /* block the loop for 250 ms */ }
    await new Promise((r) => setTimeout(r, 60)); // the late firing is recorded
    const f = s.figures();
    assert.ok(f.maxLagMs >= 150, `maxLagMs ${f.maxLagMs}`);
    assert.ok(f.p50Ms < 150, `p50Ms ${f.p50Ms}: most firings were on time`);
  } finally {
    s.stop();
  }
});

Deno.test("percentiles cover the last `keep` firings (two minutes at 1 s); the maximum is since start", () => {
  const s = createLagSampler({ intervalMs: 0 }); // the defaults: 1 s, 120 kept
  s.record(300);
  for (let i = 0; i < 120; i++) s.record(1);
  const f = s.figures();
  assert.equal(f.p99Ms, 1, "the 300 ms firing has left the window");
  assert.equal(f.maxLagMs, 300);
  assert.equal(f.currentLagMs, 1);
});

Deno.test("an early firing counts as no lag, and figures are rounded to 0.1 ms", () => {
  const s = createLagSampler({ intervalMs: 0 });
  s.record(-3);
  s.record(1.26);
  const f = s.figures();
  assert.equal(f.currentLagMs, 1.3);
  assert.equal(f.p50Ms, 0);
});

Deno.test("each firing records its lateness, then runs the tick's work", async () => {
  // A clock that reads 7 ms past the schedule at every firing.
  let t = 0;
  const seen: number[] = [];
  let fired!: () => void;
  const done = new Promise<void>((r) => fired = r);
  const keepAlive = setTimeout(() => {}, 60_000); // the sampler's own timer is unref'd
  const s = createLagSampler({
    intervalMs: 5,
    mono: () => t,
    onTick() {
      seen.push(s.figures().currentLagMs);
      t += 5 + 7;
      if (seen.length === 3) fired();
    },
  });
  t = 5 + 7;
  try {
    await done;
    assert.deepEqual(seen, [7, 7, 7]);
  } finally {
    s.stop();
    clearTimeout(keepAlive);
  }
});
