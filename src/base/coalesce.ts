/**
 * Sharing one reading among a burst of requests. Under load, one `lstat` or one set of
 * PRAGMA reads can serve every request for a few milliseconds; a client that asks one
 * request at a time (a monitor, a test that changes a file and asks again) must still see
 * every change at once. So a reading is reused only while calls are arriving in a burst.
 *
 * @module
 */

/** Options of {@linkcode coalesce}. */
export interface CoalesceOptions {
  /** How long one reading may serve a burst (ms). 0 disables reuse. */
  windowMs: number;
  /** A burst: this many calls... */
  burstCalls?: number;
  /** ...within this many ms. */
  burstMs?: number;
  /** Monotonic clock, ms. */
  mono?: () => number;
}

/**
 * Wraps `read` so that, while the last `burstCalls` calls came within `burstMs`, a reading
 * younger than `windowMs` is returned instead of reading again. A caller that already knows
 * the time (on the monotonic clock) passes it, and saves a clock read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coalesce } from "./coalesce.ts";
 * let reads = 0, t = 0;
 * const get = coalesce(() => ++reads, { windowMs: 5, burstCalls: 4, burstMs: 1, mono: () => t });
 * for (let i = 0; i < 10; i++) get(); // a burst: the first 4 calls read, then reuse
 * assert.deepEqual(reads, 4);
 * t = 100;
 * get(); // a lone call after a pause always reads
 * assert.deepEqual(reads, 5);
 * ```
 */
export function coalesce<T>(read: () => T, o: CoalesceOptions): (at?: number) => T {
  const burstCalls = o.burstCalls ?? 16;
  const burstMs = o.burstMs ?? 2;
  const mono = o.mono ?? (() => performance.now());
  const calls = new Float64Array(burstCalls).fill(-Infinity);
  let i = 0;
  let last: { at: number; value: T } | undefined;
  return (at) => {
    const t = at ?? mono();
    const oldest = calls[i]!;
    calls[i] = t;
    i = (i + 1) % burstCalls;
    const burst = t - oldest < burstMs;
    if (burst && last && t - last.at < o.windowMs && t >= last.at) return last.value;
    const value = read();
    // Stamped after the read: a slow read (a locked database) must not age its own result.
    last = { at: mono(), value };
    return value;
  };
}
