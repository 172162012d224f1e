/**
 * How old a stats snapshot is, judged from its one effective timestamp (top-level
 * `sampledAt`, else `procIO.sampledAt`, parsed once per version) on every request, also when
 * the parsed file is cached: a dead writer leaves a byte-stable file that must still go stale.
 *
 * @module
 */

import type { StatsState } from "../inputs/stats_cache.ts";
import type { StatsSnapshot } from "../inputs/stats_snapshot.ts";

/** Freshness policy: how old a sample may be, and how far in the future its clock may run. */
export interface FreshnessPolicy {
  staleAfterMs: number;
  /** A stamp up to this far ahead of our clock counts as age 0; further ahead is not fresh. */
  clockSkewMs: number;
}

/** Verdict of {@linkcode judgeFreshness}. */
export interface Freshness {
  fresh: boolean;
  /** Seconds since the stamp (0 within the skew allowance); absent without a usable stamp. */
  ageSec?: number;
  /** Why it is not fresh, for responses and logs. */
  reason?: "no_timestamp" | "bad_timestamp" | "too_old" | "in_future";
}

/**
 * Judges a snapshot's age at `nowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeFreshness } from "./freshness.ts";
 * const snap = { stampMs: Date.parse("2026-11-23T12:00:00Z") };
 * const policy = { staleAfterMs: 5000, clockSkewMs: 2000 };
 * assert.deepEqual(judgeFreshness(snap, Date.parse("2026-11-23T12:00:06Z"), policy), {
 *   fresh: false,
 *   ageSec: 6,
 *   reason: "too_old",
 * });
 * ```
 */
export function judgeFreshness(
  snap: Pick<StatsSnapshot, "stampMs">,
  nowMs: number,
  policy: FreshnessPolicy,
): Freshness {
  const at = snap.stampMs;
  if (at === "none") return { fresh: false, reason: "no_timestamp" };
  if (at === "bad") return { fresh: false, reason: "bad_timestamp" };
  const ageMs = nowMs - at;
  if (ageMs < -policy.clockSkewMs) {
    return { fresh: false, ageSec: ageMs / 1000, reason: "in_future" };
  }
  const ageSec = Math.max(0, ageMs) / 1000;
  if (ageMs > policy.staleAfterMs) return { fresh: false, ageSec, reason: "too_old" };
  return { fresh: true, ageSec };
}

/**
 * The freshness of whatever the stats file holds now: judged by its stamp when it is a
 * snapshot, not fresh (no age) when it is not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freshnessOf } from "./freshness.ts";
 * const gone = { kind: "unavailable", version: 1, reason: "missing", detail: "" } as const;
 * assert.deepEqual(freshnessOf(gone, 0, { staleAfterMs: 5000, clockSkewMs: 2000 }), {
 *   fresh: false,
 * });
 * ```
 */
export function freshnessOf(state: StatsState, nowMs: number, policy: FreshnessPolicy): Freshness {
  return state.kind === "ok" ? judgeFreshness(state.snapshot, nowMs, policy) : { fresh: false };
}
