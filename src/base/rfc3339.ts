/**
 * RFC 3339 timestamps as Go's `time.RFC3339` writes and accepts them: the stamps of the
 * ingestor's stats file. Pure: text in, epoch milliseconds out.
 *
 * @module
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp (as Go's `time.RFC3339` accepts it: optional fraction, `Z`
 * or a numeric offset) to epoch milliseconds; anything else gives `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRfc3339 } from "./rfc3339.ts";
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
