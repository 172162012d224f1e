/**
 * The last minutes of 1 Hz samples, kept in the service so a dashboard opened now shows the
 * recent past at once, and the write-source rates and anomaly flags derived from them.
 * Memory is fixed by the capacity.
 *
 * @module
 */

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
  /** Flattened write-source counters, when the stats file was fresh. */
  sources?: Record<string, number>;
  /** Per MQTT source verdicts. */
  liveness?: Record<string, string>;
}

/** A fixed-capacity ring; oldest entries fall out. */
export interface Ring<T> {
  push(item: T): void;
  /** Oldest first. */
  toArray(): T[];
  readonly size: number;
}

/**
 * Creates a ring of at most `capacity` items.
 *
 * @example
 * ```ts
 * import { createRing } from "./history.ts";
 * const r = createRing<number>(2);
 * r.push(1); r.push(2); r.push(3);
 * r.toArray(); // [2, 3]
 * ```
 */
export function createRing<T>(capacity: number): Ring<T> {
  const items: T[] = [];
  let start = 0;
  return {
    push(item) {
      if (items.length < capacity) items.push(item);
      else {
        items[start] = item;
        start = (start + 1) % capacity;
      }
    },
    toArray: () => [...items.slice(start), ...items.slice(0, start)],
    get size() {
      return items.length;
    },
  };
}

/** Rate and baseline of one write source. */
export interface WriteRate {
  /** Per second, over the last two samples that have the counter. */
  ratePerSec: number;
  /** Mean per-second rate over the baseline window. */
  baselinePerSec: number;
  /** Rate over `factor` times a non-zero baseline. */
  anomaly: boolean;
}

/**
 * Per write source: the current rate, its mean over the `baselineMs` before the current step,
 * and an anomaly flag when the current rate is over `factor` times that baseline. A counter that went
 * backwards (ingestor restart) gives rate 0 for that step.
 *
 * @example
 * ```ts
 * import { writeRates } from "./history.ts";
 * const s = (t: number, n: number) =>
 *   ({ t, readBytesPerSec: 0, writeBytesPerSec: 0, walSize: 0, sources: { tx_inserted: n } });
 * writeRates([s(0, 0), s(1000, 1), s(2000, 2), s(3000, 50)]).tx_inserted;
 * // { ratePerSec: 48, baselinePerSec: 1, anomaly: true }
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
  const out: Record<string, WriteRate> = {};
  for (const name of Object.keys(last.sources!).sort()) {
    const rate = perSec(prev, last, name);
    const baselinePerSec = perSec(windowStart, prev, name, withSources);
    out[name] = {
      ratePerSec: rate,
      baselinePerSec,
      anomaly: baselinePerSec > 0 && rate > factor * baselinePerSec,
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
    const x = a.sources?.[name], y = b.sources?.[name];
    return x === undefined || y === undefined || y < x ? 0 : round((y - x) / dt);
  }
  let sum = 0, prev: number | undefined;
  for (const s of all) {
    if (s.t < a.t || s.t > b.t) continue;
    const v = s.sources?.[name];
    if (v !== undefined && prev !== undefined && v >= prev) sum += v - prev;
    if (v !== undefined) prev = v;
  }
  return round(sum / dt);
}

const round = (n: number) => Math.round(n * 1000) / 1000;
