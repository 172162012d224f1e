/**
 * Event-loop lag, measured honestly: a timer asks to fire every `intervalMs`, and how late it
 * fires against its schedule is the lag. The same timer runs the service's once-a-second work
 * (`onTick`): one wake-up a second, not one per sampler. `/api/health` reports the current, maximum and
 * percentile lags, as CoreScope's perf page shows them for a non-Go engine.
 *
 * @module
 */

import { percentile, round1 } from "../base/figures.ts";
import { createRing } from "../base/ring.ts";

/** The `eventLoop` block of `/api/health`, in ms rounded to 0.1. */
export interface EventLoopFigures {
  currentLagMs: number;
  maxLagMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** A running lag sampler. */
export interface LagSampler {
  figures(): EventLoopFigures;
  /** Records one timer firing `lagMs` late (for tests; the timer calls it). */
  record(lagMs: number): void;
  stop(): void;
}

/**
 * Starts a sampler; the timer is unref'd, so it never keeps the process alive. Each firing
 * records its lateness, then calls `onTick`. With `intervalMs` 0 no timer runs (tests feed
 * {@linkcode LagSampler.record}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLagSampler } from "./event_loop.ts";
 * const s = createLagSampler({ intervalMs: 0 });
 * s.record(2);
 * s.record(40);
 * assert.deepEqual(s.figures(), { currentLagMs: 40, maxLagMs: 40, p50Ms: 2, p95Ms: 40, p99Ms: 40 });
 * s.stop();
 * ```
 */
export function createLagSampler(
  opts: { intervalMs?: number; keep?: number; mono?: () => number; onTick?: () => void } = {},
): LagSampler {
  const intervalMs = opts.intervalMs ?? 1000;
  const onTick = opts.onTick;
  const mono = opts.mono ?? (() => performance.now());
  const lags = createRing<number>(opts.keep ?? 120);
  let current = 0, max = 0;
  const record = (lag: number) => {
    current = Math.max(0, lag);
    if (current > max) max = current;
    lags.push(current);
  };
  let expected = mono() + intervalMs;
  const timer = intervalMs > 0
    ? setInterval(() => {
      const t = mono();
      record(t - expected);
      expected = t + intervalMs;
      onTick?.();
    }, intervalMs)
    : undefined;
  if (timer !== undefined) Deno.unrefTimer(timer);
  return {
    record,
    figures() {
      const sorted = lags.toArray().sort((a, b) => a - b);
      return {
        currentLagMs: round1(current),
        maxLagMs: round1(max),
        p50Ms: round1(percentile(sorted, 0.5)),
        p95Ms: round1(percentile(sorted, 0.95)),
        p99Ms: round1(percentile(sorted, 0.99)),
      };
    },
    stop: () => clearInterval(timer),
  };
}
