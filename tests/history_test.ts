import assert from "node:assert/strict";
import { createHistoryRecorder, type HistorySample, writeRates } from "../src/judge/history.ts";
import { createRuntime } from "../src/app/runtime.ts";
import { DEFAULTS } from "../src/app/config.ts";
import { silentLogger } from "../src/base/log.ts";
import { createRing } from "../src/base/ring.ts";

Deno.test("ring keeps the newest `capacity` items, oldest first", () => {
  const r = createRing<number>(3);
  assert.deepEqual(r.toArray(), []);
  for (let i = 1; i <= 7; i++) r.push(i);
  assert.deepEqual(r.toArray(), [5, 6, 7]);
  assert.equal(r.size, 3);
});

const at = (sec: number, tx: number | undefined): HistorySample => ({
  t: sec * 1000,
  readBytesPerSec: 0,
  writeBytesPerSec: 0,
  walSize: 0,
  ...(tx === undefined ? {} : { sources: { tx_inserted: tx } }),
});

Deno.test("writeRates: current rate, 5-minute baseline, anomaly over 10x", () => {
  const samples = Array.from({ length: 301 }, (_, i) => at(i, i * 2)); // 2/s for 5 minutes
  samples.push(at(301, 600 + 50)); // then 50/s
  const r = writeRates(samples).tx_inserted!;
  assert.equal(r.ratePerSec, 50);
  assert.equal(r.baselinePerSec, 2);
  assert.equal(r.anomaly, true);
  samples.push(at(302, 650 + 10)); // 10/s: 5x, not an anomaly
  assert.equal(writeRates(samples).tx_inserted!.anomaly, false);
});

Deno.test("writeRates: no baseline, no anomaly; restarts and gaps are not negative rates", () => {
  assert.equal(writeRates([at(0, 0), at(1, 100)]).tx_inserted!.anomaly, false);
  const restart = writeRates([at(0, 1000), at(1, 1010), at(2, 5)]).tx_inserted!;
  assert.equal(restart.ratePerSec, 0);
  assert.equal(restart.baselinePerSec, 10);
  const gap = writeRates([at(0, 0), at(1, undefined), at(2, 10)]).tx_inserted!;
  assert.equal(gap.ratePerSec, 5);
  assert.deepEqual(writeRates([at(0, 1)]), {});
});

Deno.test("the runtime keeps the last 10 minutes of 1 Hz samples, oldest first", () => {
  let t = 0;
  const rt = createRuntime({ ...DEFAULTS, statsPath: "/nonexistent.json" }, silentLogger, {
    now: () => t,
    historyIntervalMs: 0,
  });
  for (let i = 1; i <= 700; i++) {
    t = i * 1000;
    rt.sample();
  }
  const s = rt.services.history();
  rt.close();
  assert.equal(s.length, 600);
  assert.equal(s[0]!.t, 101_000);
  assert.equal(s.at(-1)!.t, 700_000);
});

Deno.test("the recorder's timer takes a sample every intervalMs", async () => {
  const h = createHistoryRecorder({
    now: () => performance.now(),
    sample: () => ({ readBytesPerSec: 0, writeBytesPerSec: 0, walSize: 0 }),
  }, { capacity: 10, intervalMs: 40 });
  try {
    const until = performance.now() + 3000;
    while (h.samples().length < 4 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const t = h.samples().map((x) => x.t);
    assert.ok(t.length >= 4, `${t.length} samples`);
    // A timer may fire late under load, never early: on average, at least the interval apart.
    const mean = (t.at(-1)! - t[0]!) / (t.length - 1);
    assert.ok(mean >= 38, `mean gap ${mean} ms`);
  } finally {
    h.stop();
  }
});

Deno.test("writeRates: a restart inside the baseline window costs it one step, not the counter's fall", () => {
  // 2/s for 5 minutes, the counter back to 0 in the middle (an ingestor restart), then 2/s on.
  const samples: HistorySample[] = [];
  for (let s = 0; s <= 301; s++) samples.push(at(s, s < 150 ? 1000 + s * 2 : (s - 150) * 2));
  const r = writeRates(samples).tx_inserted!;
  assert.equal(r.learning, false);
  assert.ok(r.baselinePerSec >= 1.99 && r.baselinePerSec <= 2, `${r.baselinePerSec}`);
  assert.equal(r.ratePerSec, 2);
  // Equal counters are a zero step, not a reset: a flat counter is a baseline of 0.
  const flat = writeRates(Array.from({ length: 302 }, (_, s) => at(s, 7))).tx_inserted!;
  assert.deepEqual([flat.baselinePerSec, flat.ratePerSec, flat.anomaly], [0, 0, false]);
});
