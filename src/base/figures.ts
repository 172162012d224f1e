/**
 * How the service rounds and summarizes the figures it reports: one small module, so every
 * endpoint, the history and the simulator round the same way.
 *
 * @module
 */

/**
 * Rounds to one decimal, as every figure the service reports in ms or percent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { round1 } from "./figures.ts";
 * assert.equal(round1(1.26), 1.3);
 * ```
 */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * Nearest-rank percentile of an ascending array; 0 when empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./figures.ts";
 * assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
 * assert.equal(percentile([], 0.95), 0);
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/**
 * Rounds to three decimals, as the history's per-second rates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { round3 } from "./figures.ts";
 * assert.equal(round3(1.23456), 1.235);
 * ```
 */
export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
