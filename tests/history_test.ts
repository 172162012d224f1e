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

/** Samples every second from `t0` (seconds) with `sources` given per second by `f`. */
function series(t0: number, n: number, f: (s: number) => Record<string, number>): HistorySample[] {
  return Array.from({ length: n }, (_, i) => ({
    t: (t0 + i) * 1000,
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    walSize: 0,
    sources: f(t0 + i),
  }));
}

Deno.test("writeRates: the baseline is the last five minutes, its first sample included", () => {
  // Ten minutes: 10/s for the first five, then 2/s; a jump of 300 in the step right after the
  // window's first sample (t = 300 s) is inside the window, the steps before it are not.
  const count = (s: number) => (s <= 300 ? s * 10 : 3000 + 300 + (s - 301) * 2);
  const samples = series(0, 601, (s) => ({ tx_inserted: count(s) }));
  const r = writeRates(samples).tx_inserted!;
  // From t = 300 to the previous sample (599): 300 + 298 * 2 over 299 s.
  assert.equal(r.baselinePerSec, Math.round(((300 + 298 * 2) / 299) * 1000) / 1000);
  assert.equal(r.learning, false);
});

Deno.test("writeRates: learning until the first sample is a whole window old, to the millisecond", () => {
  const samples = series(0, 301, (s) => ({ tx_inserted: s }));
  assert.equal(writeRates(samples).tx_inserted!.learning, false, "300 s exactly");
  assert.equal(writeRates(samples.slice(1)).tx_inserted!.learning, true, "299 s");
});

Deno.test("writeRates: the anomaly rule, each part as a case", () => {
  const base = (rate: number, last: number) => {
    const s = series(0, 302, (t) => ({ tx_inserted: t <= 300 ? t * rate : 300 * rate + last }));
    return writeRates(s).tx_inserted!;
  };
  assert.equal(base(2, 21).anomaly, true, "over 10x");
  assert.equal(base(2, 20).anomaly, false, "10x exactly is not over");
  assert.equal(base(0, 500).anomaly, false, "no baseline: nothing to be 10x of");
  const learning = series(0, 30, (t) => ({ tx_inserted: t < 29 ? t : 10_000 }));
  assert.equal(writeRates(learning).tx_inserted!.anomaly, false, "still learning");
});

Deno.test("writeRates: names sorted; one new since the last sample is 0, not NaN; one absent a while keeps its steps", () => {
  const s = series(
    0,
    3,
    (t): Record<string, number> => (t < 2 ? { b: t, a: t } : { b: t, a: t, c: 5 }),
  );
  const r = writeRates(s);
  assert.deepEqual(Object.keys(r), ["a", "b", "c"]);
  assert.equal(r.c!.ratePerSec, 0);
  // "a" missing from the middle sample: the step from 0 to 4 over the two seconds still counts.
  const gap = series(
    0,
    4,
    (t): Record<string, number> => (t === 1 ? { b: t } : { a: t * 2, b: t }),
  );
  assert.equal(writeRates(gap).a!.baselinePerSec, 2);
});

Deno.test("writeRates: two samples with the same time are no rate", () => {
  const s = series(0, 2, (t) => ({ a: t * 5 }));
  s[1]!.t = s[0]!.t;
  assert.deepEqual(writeRates(s).a, {
    ratePerSec: 0,
    baselinePerSec: 0,
    learning: true,
    anomaly: false,
  });
});

Deno.test("the recorder samples once at creation; with intervalMs 0 never by itself; stop stops it", async () => {
  let n = 0;
  const inputs = {
    now: () => ++n,
    sample: () => ({ readBytesPerSec: 0, writeBytesPerSec: 0, walSize: 0 }),
  };
  const manual = createHistoryRecorder(inputs, { capacity: 10, intervalMs: 0 });
  assert.equal(manual.samples().length, 1);
  // The absence of a timer has no event to await: several turns of the event loop pass.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(manual.samples().length, 1);
  manual.stop();
  const timed = createHistoryRecorder(inputs, { capacity: 100, intervalMs: 5 });
  while (timed.samples().length < 3) await new Promise((r) => setTimeout(r, 5));
  timed.stop();
  const after = timed.samples().length;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(timed.samples().length, after, "no sample after stop");
});

Deno.test("the recorder's timer never keeps a process alive", async () => {
  const module = new URL("../src/judge/history.ts", import.meta.url).href;
  const code = `import { createHistoryRecorder } from "${module}";
createHistoryRecorder({ now: () => 0, sample: () => ({ readBytesPerSec: 0, writeBytesPerSec: 0, walSize: 0 }) }, { capacity: 2, intervalMs: 1000 });`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // A referenced 1 s interval would run forever: 10 s is the bound, exiting is the event.
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const { code: exit, signal } = await child.output().then((o) => ({
    code: o.code,
    signal: o.signal,
  }));
  clearTimeout(timer);
  assert.equal(signal, null, "killed: the timer kept it alive");
  assert.equal(exit, 0);
});
