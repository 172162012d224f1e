/**
 * Liveness verdicts: what the two clocks of each MQTT source, and the stats file's age, mean
 * for an operator. Pure: plain data and the time in, verdicts out. The ingestor's trouble is
 * reported here, never turned into this service's own unreadiness.
 *
 * @module
 */

import type { SourceLiveness } from "./stats_snapshot.ts";

/** One source's verdict. */
export type SourceStatusVerdict = "ok" | "write_stalled" | "stalled" | "never";

/**
 * The stats file's verdict: `missing` (no file at the path), `invalid` (something is there
 * but it is not a readable stats file: a directory, FIFO or symlink, too large, not JSON,
 * unreadable), `stale` or `fresh` by its stamp.
 */
export type StatsFileVerdict = "fresh" | "stale" | "missing" | "invalid";

/** Thresholds, in seconds. */
export interface VerdictThresholds {
  receiptStaleAfterSec: number;
  writeStaleAfterSec: number;
}

/**
 * Judges one source: `never` when neither clock was ever stamped; `ok` while writes are
 * fresh; `write_stalled` when the broker still delivers (receipt fresh) but nothing is
 * written; `stalled` when both are stale.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceVerdict } from "./verdicts.ts";
 * const t = { receiptStaleAfterSec: 60, writeStaleAfterSec: 60 };
 * assert.equal(sourceVerdict({ lastReceiptUnix: 1000, lastMessageUnix: 900 }, 1010, t), "write_stalled");
 * ```
 */
export function sourceVerdict(
  clocks: SourceLiveness,
  nowSec: number,
  t: VerdictThresholds,
): SourceStatusVerdict {
  const { lastReceiptUnix: r, lastMessageUnix: m } = clocks;
  if (r === 0 && m === 0) return "never";
  const writeFresh = m > 0 && nowSec - m <= t.writeStaleAfterSec;
  if (writeFresh) return "ok";
  const receiptFresh = r > 0 && nowSec - r <= t.receiptStaleAfterSec;
  return receiptFresh ? "write_stalled" : "stalled";
}

/** Verdicts for every source and the file, plus one summary word. */
export interface IngestVerdicts {
  /** `ok` when the file is fresh and every source is ok (or never seen), else `degraded`. */
  status: "ok" | "degraded";
  statsFile: StatsFileVerdict;
  sources: Record<string, SourceStatusVerdict>;
}

/**
 * Judges every source in `liveness`, given the stats file's own verdict.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ingestVerdicts } from "./verdicts.ts";
 * const t = { receiptStaleAfterSec: 60, writeStaleAfterSec: 60 };
 * assert.deepEqual(ingestVerdicts("missing", undefined, 0, t), {
 *   status: "degraded",
 *   statsFile: "missing",
 *   sources: {},
 * });
 * ```
 */
export function ingestVerdicts(
  statsFile: StatsFileVerdict,
  liveness: Record<string, SourceLiveness> | undefined,
  nowSec: number,
  t: VerdictThresholds,
): IngestVerdicts {
  const sources: Record<string, SourceStatusVerdict> = {};
  for (const name of Object.keys(liveness ?? {}).sort()) {
    sources[name] = sourceVerdict(liveness![name]!, nowSec, t);
  }
  const healthy = statsFile === "fresh" &&
    Object.values(sources).every((v) => v === "ok" || v === "never");
  return { status: healthy ? "ok" : "degraded", statsFile, sources };
}
