/**
 * A short-lived memo with a change probe: a value is reused for `ttlMs`, but recomputed at
 * once when the probe's key changes (the stats file's identity, for the liveness map).
 * Negative results are values like any other, so a missing file is cached as "none" too.
 *
 * @module
 */

/** Dependencies of {@linkcode createMemo}. */
export interface MemoOptions<T> {
  ttlMs: number;
  /** Monotonic or wall clock, in ms. */
  now: () => number;
  /** A cheap key for the input's current version (e.g. file identity, or "missing"). */
  probe: () => string;
  /** The expensive computation. */
  load: () => T;
}

/** A memoized value. */
export interface Memo<T> {
  get(): T;
  /** How many times `load` ran. */
  loads(): number;
}

/**
 * Creates a memo.
 *
 * @example
 * ```ts
 * import { createMemo } from "./memo.ts";
 * let t = 0;
 * const memo = createMemo({ ttlMs: 1000, now: () => t, probe: () => "v1", load: () => t });
 * memo.get(); // 0
 * t = 999;
 * memo.get(); // 0: same probe key, within the TTL
 * t = 1000;
 * memo.get(); // 1000: TTL elapsed
 * ```
 */
export function createMemo<T>(opts: MemoOptions<T>): Memo<T> {
  let cached: { value: T; key: string; at: number } | undefined;
  let loads = 0;
  return {
    get(): T {
      const t = opts.now();
      const key = opts.probe();
      if (cached && key === cached.key && t - cached.at < opts.ttlMs && t >= cached.at) {
        return cached.value;
      }
      loads++;
      cached = { value: opts.load(), key, at: t };
      return cached.value;
    },
    loads: () => loads,
  };
}
