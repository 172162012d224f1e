/**
 * How old a stats snapshot is, judged from its one effective timestamp (top-level
 * `sampledAt`, else `procIO.sampledAt`, parsed once per version) on every request, also when
 * the parsed file is cached: a dead writer leaves a byte-stable file that must still go stale.
 *
 * @module
 */

import type { StatsSnapshot } from "./stats_snapshot.ts";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp (as Go's `time.RFC3339` accepts it: optional fraction, `Z`
 * or a numeric offset) to epoch milliseconds; anything else gives `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRfc3339 } from "./freshness.ts";
 * assert.equal(parseRfc3339("2026-11-23T12:00:00Z"), 1795435200000);
 * assert.equal(parseRfc3339("yesterday"), undefined);
 * ```
 */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = "", zone = "Z"] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), min = Number(mi);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || Number(sec) > 60) {
    return undefined;
  }
  // Date.UTC rolls Feb 31 into March; reject days past the month's end.
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, hour, min, Math.min(Number(sec), 59));
  ms += frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const [oh, om] = zone.slice(1).split(":").map(Number) as [number, number];
    if (oh > 23 || om > 59) return undefined;
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

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
