/**
 * The last minutes of 1 Hz samples, kept in the service so a dashboard opened now shows the
 * recent past at once, and the write-source rates and anomaly flags derived from them.
 * Memory is fixed: the ring's capacity times a bounded sample (a sample shares its stats
 * version's counters object, and the file's names are capped when it is parsed).
 *
 * @module
 */

import { getOwn } from "../base/records.ts";
import { round3 } from "../base/figures.ts";
import { createRing } from "../base/ring.ts";

/** One 1 Hz sample. */
export interface HistorySample {
  /** Unix ms. */
  t: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  /** The ingestor's own rates, when its sample was fresh. */
  ingestorReadBytesPerSec?: number;
  ingestorWriteBytesPerSec?: number;
  walSize: number;
  /** Flattened write-source counters, when the stats file was fresh (shared per version). */
  sources?: Record<string, number>;
  /** Per MQTT source verdicts. */
  liveness?: Record<string, string>;
}

/** Rate and baseline of one write source. */
export interface WriteRate {
  /** Per second, over the last two samples that have the counter. */
  ratePerSec: number;
  /** Mean per-second rate over the baseline window (5 minutes), in the same unit. */
  baselinePerSec: number;
  /**
   * True while the samples do not yet span the whole baseline window (a start, a restart of
   * this service): the baseline is the mean of what there is, and no anomaly is flagged on it.
   */
  learning: boolean;
  /** Rate over `factor` times a non-zero baseline, once it is learnt. */
  anomaly: boolean;
}

/**
 * Per write source: the current rate, its mean over the `baselineMs` before the current step,
 * and an anomaly flag when the current rate is over `factor` times that baseline. Until the
 * samples span the whole window the baseline is `learning` (the first seconds after a start
 * would skew it) and flags nothing. A counter that went backwards (ingestor restart) gives
 * rate 0 for that step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeRates } from "./history.ts";
 * const s = (t: number, n: number) =>
 *   ({ t, readBytesPerSec: 0, writeBytesPerSec: 0, walSize: 0, sources: { tx_inserted: n } });
 * assert.deepEqual(writeRates([s(0, 0), s(1000, 1), s(2000, 2), s(3000, 50)], 3000).tx_inserted, {
 *   ratePerSec: 48,
 *   baselinePerSec: 1,
 *   learning: false,
 *   anomaly: true,
 * });
 * // Two seconds of a five-minute window: learning, no flag.
 * assert.equal(writeRates([s(0, 0), s(1000, 1), s(2000, 50)]).tx_inserted!.learning, true);
 * ```
 */
export function writeRates(
  samples: readonly HistorySample[],
  baselineMs = 300_000,
  factor = 10,
): Record<string, WriteRate> {
  const withSources = samples.filter((s) => s.sources);
  if (withSources.length < 2) return {};
  const last = withSources[withSources.length - 1]!;
  const prev = withSources[withSources.length - 2]!;
  const windowStart = withSources.find((s) => s.t >= last.t - baselineMs) ?? withSources[0]!;
  const learning = withSources[0]!.t > last.t - baselineMs;
  const out: Record<string, WriteRate> = {};
  for (const name of Object.keys(last.sources!).sort()) {
    const rate = perSec(prev, last, name);
    const baselinePerSec = perSec(windowStart, prev, name, withSources);
    out[name] = {
      ratePerSec: rate,
      baselinePerSec,
      learning,
      anomaly: !learning && baselinePerSec > 0 && rate > factor * baselinePerSec,
    };
  }
  return out;
}

/** Increase per second from `a` to `b`; with `all`, resets between them are skipped. */
function perSec(
  a: HistorySample,
  b: HistorySample,
  name: string,
  all?: readonly HistorySample[],
): number {
  const dt = (b.t - a.t) / 1000;
  if (dt <= 0) return 0;
  if (!all) {
    const x = getOwn(a.sources, name), y = getOwn(b.sources, name);
    return x === undefined || y === undefined || y < x ? 0 : round3((y - x) / dt);
  }
  let sum = 0, prev: number | undefined;
  for (const s of all) {
    if (s.t < a.t || s.t > b.t) continue;
    const v = getOwn(s.sources, name);
    if (v !== undefined && prev !== undefined && v >= prev) sum += v - prev;
    if (v !== undefined) prev = v;
  }
  return round3(sum / dt);
}

/** What one sample is taken from; each a plain function, so tests inject them. */
export interface HistoryInputs {
  now: () => number;
  /** Everything but `t`. */
  sample: (t: number) => Omit<HistorySample, "t">;
}

/** A running 1 Hz recorder. */
export interface HistoryRecorder {
  /** Oldest first. */
  samples(): HistorySample[];
  /** Takes one sample now (the timer calls it every `intervalMs`). */
  record(): void;
  stop(): void;
}

/**
 * Records a sample now and then every `intervalMs` into a ring of `capacity`; the timer is
 * unref'd. With `intervalMs` 0 no timer runs (tests call `record`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHistoryRecorder } from "./history.ts";
 * let t = 0;
 * const h = createHistoryRecorder({
 *   now: () => t,
 *   sample: () => ({ readBytesPerSec: 0, writeBytesPerSec: 0, walSize: t }),
 * }, { capacity: 2, intervalMs: 0 });
 * t = 1000;
 * h.record();
 * t = 2000;
 * h.record();
 * assert.deepEqual(h.samples().map((s) => s.walSize), [1000, 2000]);
 * ```
 */
export function createHistoryRecorder(
  inputs: HistoryInputs,
  opts: { capacity: number; intervalMs: number },
): HistoryRecorder {
  const ring = createRing<HistorySample>(opts.capacity);
  const record = () => {
    const t = inputs.now();
    ring.push({ t, ...inputs.sample(t) });
  };
  record();
  const timer = opts.intervalMs > 0 ? setInterval(record, opts.intervalMs) : undefined;
  if (timer !== undefined) Deno.unrefTimer(timer);
  return { samples: ring.toArray, record, stop: () => clearInterval(timer) };
}
