/**
 * The one place that answers "is the ingest healthy?": the stats file's state, its sources'
 * clocks and connection status, the write counters over the last window and the WAL's
 * generation, judged against the clock and the policy. Pure: plain data in, verdicts out. The
 * ingestor's trouble is reported here, never turned into this service's own unreadiness.
 *
 * Each verdict is judged from what CoreScope's real ingestor writes: it stamps a source's
 * message clock when a handler starts, before the write, so under a locked database the
 * clocks stay fresh while `write_errors` grows and the row counters stay flat. The counters
 * decide whether the ingest writes; the clocks say whether a source receives.
 *
 * @module
 */

import { type DiskPolicy, type DiskVerdict, diskVerdict } from "./disk_forecast.ts";
import { type Freshness, freshnessOf, type FreshnessPolicy } from "./freshness.ts";
import type { IngestFacts } from "./ingest_watch.ts";
import { getOwn } from "../base/records.ts";
import type { StatsState } from "../inputs/stats_cache.ts";
import type { SourceLiveness, SourceStatus, StatsSnapshot } from "../inputs/stats_snapshot.ts";

/**
 * One source's verdict, worst first: `clock_wrong` (a stamp in milliseconds, or ahead of
 * ours), `disconnected` (`connected: false`), `write_failing` (packets arrive, the ingest
 * fails to write them), `stalled` (nothing received), `write_stalled` (received, the write
 * clock stale), `never` (no clock ever stamped), `ok`.
 */
export type SourceStatusVerdict =
  | "ok"
  | "write_stalled"
  | "stalled"
  | "never"
  | "disconnected"
  | "write_failing"
  | "clock_wrong";

/**
 * The stats file's verdict: `missing` (no file at the path), `invalid` (something is there
 * but it is not a readable stats file: a directory, FIFO or symlink, too large, not JSON,
 * unreadable), `stale` or `fresh` by its stamp.
 */
export type StatsFileVerdict = "fresh" | "stale" | "missing" | "invalid";

/**
 * Whether the ingest writes: `write_failing` when `write_errors` grew within the window, or
 * no row was written while packets arrived; `unknown` without a fresh window of counters.
 */
export type WritesVerdict = "ok" | "write_failing" | "unknown";

/** The WAL: `checkpoint_starved` when it has not been reset for long while it grows. */
export type DatabaseVerdict = "ok" | "checkpoint_starved";

/** The ingestor's clock: `milliseconds` (unix stamps ×1000), `ahead` (in our future). */
export type ClockVerdict = "ok" | "milliseconds" | "ahead";

/**
 * The SQLite writer lock, from the ingestor's `writer_perf`: `contended` when writes queue for
 * it or hold it for long within the window (the minutes before `database is locked`);
 * `unknown` without a fresh window that has `writer_perf`.
 */
export type WriterLockVerdict = "ok" | "contended" | "unknown";

/** Everything the judge needs besides the state and the clock. */
export interface JudgePolicy extends FreshnessPolicy, DiskPolicy {
  receiptStaleAfterSec: number;
  writeStaleAfterSec: number;
  /** The window over which the write counters are compared. */
  writeWindowSec: number;
  /** The WAL not reset for this long while it grows (and is past its usual size): starved. */
  walResetStaleAfterSec: number;
  /** A writer-lock wait (or the ingest's hold) p99 at or over this, ms, moving: contended. */
  writerLockMs: number;
  /** This many writes or more that waited over 100 ms within the window: contended. */
  writerContentionCount: number;
}

/** Thresholds of the per-source clock verdicts, in seconds. */
export type VerdictThresholds = Pick<JudgePolicy, "receiptStaleAfterSec" | "writeStaleAfterSec">;

/** Every verdict, plus one summary word. */
export interface IngestVerdicts {
  /**
   * `down` when the stats file is not fresh (the ingestor is gone, hung or unreadable),
   * `degraded` when any other verdict is bad, else `ok`.
   */
  status: "ok" | "degraded" | "down";
  statsFile: StatsFileVerdict;
  sources: Record<string, SourceStatusVerdict>;
  writes: WritesVerdict;
  database: DatabaseVerdict;
  clock: ClockVerdict;
  /** Additive: the database's filesystem (free space and its forecast). */
  disk: DiskVerdict;
  /** Additive: the SQLite writer lock. */
  writerLock: WriterLockVerdict;
  /** Each disconnected source's last error (masked), when it has one. */
  lastErrors?: Record<string, string>;
}

/** Stamps at or above this are milliseconds, not seconds (it is the year 5138 in seconds). */
const MS_STAMP = 1e11;
/** A window shorter than this cannot say "nothing was written": rows lag receipts a little. */
const MIN_FLAT_WINDOW_MS = 10_000;
/** SQLite's default `wal_autocheckpoint`, in pages: a WAL past twice this should have reset. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The stats file's verdict for operators.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statsFileVerdict } from "./verdicts.ts";
 * const dir = { kind: "unavailable", version: 1, reason: "not_regular", detail: "" } as const;
 * assert.equal(statsFileVerdict(dir, { fresh: false }), "invalid");
 * ```
 */
export function statsFileVerdict(state: StatsState, freshness: Freshness): StatsFileVerdict {
  if (state.kind !== "ok") return state.reason === "missing" ? "missing" : "invalid";
  return freshness.fresh ? "fresh" : "stale";
}

/**
 * Judges one source by its two clocks: `never` when neither was ever stamped; `ok` while
 * writes are fresh; `write_stalled` when the broker still delivers (receipt fresh) but
 * nothing is written; `stalled` when both are stale.
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

/** A unix stamp's sanity: in milliseconds, ahead of `nowSec` past the skew, or fine. */
function stampClock(stamp: number, nowSec: number, skewSec: number): ClockVerdict {
  if (stamp >= MS_STAMP) return "milliseconds";
  return stamp > nowSec + skewSec ? "ahead" : "ok";
}

/** The worst of clock verdicts. */
function worstClock(vs: Iterable<ClockVerdict>): ClockVerdict {
  let out: ClockVerdict = "ok";
  for (const v of vs) if (v === "milliseconds" || (v === "ahead" && out === "ok")) out = v;
  return out;
}

/**
 * Whether the ingest writes, from the window of counters: write errors grew, or rows stayed
 * flat while packets arrived over at least 10 s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writesVerdict } from "./verdicts.ts";
 * const p = (t: number, writes: number, errors: number, packets: number) =>
 *   ({ t, writes, errors, packets: { local: packets } });
 * assert.equal(writesVerdict({ from: p(0, 10, 0, 10), to: p(30_000, 60, 0, 60) }), "ok");
 * assert.equal(writesVerdict({ from: p(0, 10, 0, 10), to: p(30_000, 10, 0, 60) }), "write_failing");
 * assert.equal(writesVerdict({ from: p(0, 10, 0, 10), to: p(30_000, 60, 2, 60) }), "write_failing");
 * assert.equal(writesVerdict(undefined), "unknown");
 * ```
 */
export function writesVerdict(window: IngestFacts["window"]): WritesVerdict {
  if (!window) return "unknown";
  const { from, to } = window;
  if (to.errors > from.errors) return "write_failing";
  const flat = to.writes === from.writes && to.t - from.t >= MIN_FLAT_WINDOW_MS;
  return flat && packetsGrew(window).length > 0 ? "write_failing" : "ok";
}

/** The sources whose packet counter grew within the window. */
function packetsGrew(window: NonNullable<IngestFacts["window"]>): string[] {
  return Object.keys(window.to.packets).filter((name) =>
    window.to.packets[name]! > (getOwn(window.from.packets, name) ?? Infinity)
  );
}

/**
 * Whether checkpoints keep up: the WAL not reset for `walResetStaleAfterSec` while it grew,
 * and past twice SQLite's default autocheckpoint (1000 pages), which a WAL that checkpoints
 * normally does not outgrow. A quiet database (no growth) is never starved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { databaseVerdict } from "./verdicts.ts";
 * const wal = { generation: "1", since: 0, ageSec: 0, sizeAtSince: 4e6, size: 40e6, pageSize: 4096 };
 * assert.equal(databaseVerdict(wal, 200_000, 120), "checkpoint_starved");
 * assert.equal(databaseVerdict(wal, 60_000, 120), "ok");
 * ```
 */
export function databaseVerdict(
  wal: IngestFacts["wal"],
  nowMs: number,
  walResetStaleAfterSec: number,
): DatabaseVerdict {
  if (!wal) return "ok";
  const old = nowMs - wal.since >= walResetStaleAfterSec * 1000;
  const big = wal.size > 2 * AUTOCHECKPOINT_PAGES * wal.pageSize;
  return old && big && wal.size > wal.sizeAtSince ? "checkpoint_starved" : "ok";
}

/** The component whose hold is the ingest's own: an MQTT message's insert. */
const INGEST_COMPONENT = "mqtt_handler";

/**
 * Whether the writer lock is contended within the window: writes that waited over 100 ms for
 * it (the ingestor's `contention_total`) grew by `writerContentionCount` or more; or, for a
 * component that wrote within the window, its wait p99 (or, for the ingest's own inserts, its
 * hold p99: the time SQLite waited for another process's lock, up to its 5 s busy timeout) is
 * at or over `writerLockMs` and moved within the window. The ingestor's percentiles cover its
 * last 1024 writes, not a time: a p99 that has not moved is old news, and does not count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writerLockVerdict } from "./verdicts.ts";
 * const p = (t: number, count: number, contention: number, holdP99: number) => ({
 *   t, writes: count, errors: 0, packets: {},
 *   writers: { mqtt_handler: { count, contention, waitP99: 0.01, holdP99 } },
 * });
 * const policy = { writerLockMs: 1000, writerContentionCount: 3 };
 * assert.equal(writerLockVerdict({ from: p(0, 10, 0, 2), to: p(30_000, 40, 0, 2.5) }, policy), "ok");
 * assert.equal(writerLockVerdict({ from: p(0, 10, 0, 2), to: p(30_000, 40, 0, 1800) }, policy), "contended");
 * assert.equal(writerLockVerdict({ from: p(0, 10, 0, 1800), to: p(30_000, 40, 0, 1800) }, policy), "ok");
 * assert.equal(writerLockVerdict({ from: p(0, 10, 0, 2), to: p(30_000, 40, 3, 2) }, policy), "contended");
 * ```
 */
export function writerLockVerdict(
  window: IngestFacts["window"],
  policy: Pick<JudgePolicy, "writerLockMs" | "writerContentionCount">,
): WriterLockVerdict {
  const to = window?.to.writers;
  if (!window || !to) return "unknown";
  const from = window.from.writers ?? {};
  let queued = 0;
  for (const [name, w] of Object.entries(to)) {
    const before = getOwn(from, name) ?? { count: 0, contention: 0, waitP99: 0, holdP99: 0 };
    queued += Math.max(0, w.contention - before.contention);
    if (w.count <= before.count) continue;
    const slow = (now: number, then: number) => now >= policy.writerLockMs && now !== then;
    if (slow(w.waitP99, before.waitP99)) return "contended";
    if (name === INGEST_COMPONENT && slow(w.holdP99, before.holdP99)) return "contended";
  }
  return queued >= policy.writerContentionCount ? "contended" : "ok";
}

/** The ingestor's clock, from the stamps of the file. */
function clockVerdict(snap: StatsSnapshot, f: Freshness, nowSec: number, skewSec: number) {
  const stamps: number[] = [];
  for (const l of Object.values(snap.sourceLiveness ?? {})) {
    stamps.push(l.lastReceiptUnix, l.lastMessageUnix);
  }
  for (const s of snap.sourceStatuses ?? []) stamps.push(s.lastPacketUnix, s.lastConnectUnix);
  if (snap.watchdogLastTickUnix !== undefined) stamps.push(snap.watchdogLastTickUnix);
  const fromStamps = worstClock(stamps.map((s) => stampClock(s, nowSec, skewSec)));
  return f.reason === "in_future" ? worstClock([fromStamps, "ahead"]) : fromStamps;
}

/** Each source named by the liveness map or the status list, judged worst first. */
function sources(
  snap: StatsSnapshot,
  nowSec: number,
  policy: JudgePolicy,
  failing: ReadonlySet<string> | undefined,
): Record<string, SourceStatusVerdict> {
  const status = new Map<string, SourceStatus>();
  for (const s of snap.sourceStatuses ?? []) status.set(s.name, s);
  const live = snap.sourceLiveness ?? {};
  const names = [...new Set([...Object.keys(live), ...status.keys()])].sort();
  const skewSec = policy.clockSkewMs / 1000;
  const out: Record<string, SourceStatusVerdict> = {};
  for (const name of names) {
    const clocks = getOwn(live, name);
    const st = status.get(name);
    const stamps = clocks ? [clocks.lastReceiptUnix, clocks.lastMessageUnix] : [];
    if (worstClock(stamps.map((s) => stampClock(s, nowSec, skewSec))) !== "ok") {
      out[name] = "clock_wrong";
    } else if (st && !st.connected) out[name] = "disconnected";
    else if (failing?.has(name)) out[name] = "write_failing";
    else if (clocks) out[name] = sourceVerdict(clocks, nowSec, policy);
    else {
      const receipt = st!.lastPacketUnix;
      out[name] = sourceVerdict({ lastReceiptUnix: receipt, lastMessageUnix: receipt }, nowSec, {
        receiptStaleAfterSec: policy.receiptStaleAfterSec,
        writeStaleAfterSec: policy.receiptStaleAfterSec,
      });
    }
  }
  return out;
}

/**
 * Judges the ingest at `nowMs`: the stats file's state, what the watch saw over the last
 * window (`facts`), and the policy. The one entry every endpoint, metric and log uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeIngest } from "./verdicts.ts";
 * const gone = { kind: "unavailable", version: 1, reason: "missing", detail: "" } as const;
 * const policy = {
 *   staleAfterMs: 5000, clockSkewMs: 2000, receiptStaleAfterSec: 120, writeStaleAfterSec: 120,
 *   writeWindowSec: 30, walResetStaleAfterSec: 120, writerLockMs: 1000,
 *   writerContentionCount: 3, diskLowHours: 24, diskLowMiB: 256, diskWindowSec: 3600,
 * };
 * assert.deepEqual(judgeIngest(gone, 0, policy, { restarts: 0 }), {
 *   status: "down", statsFile: "missing", sources: {}, writes: "unknown", database: "ok",
 *   clock: "ok", disk: "unknown", writerLock: "unknown",
 * });
 * ```
 */
export function judgeIngest(
  state: StatsState,
  nowMs: number,
  policy: JudgePolicy,
  facts: IngestFacts,
): IngestVerdicts {
  const f = freshnessOf(state, nowMs, policy);
  const statsFile = statsFileVerdict(state, f);
  const database = databaseVerdict(facts.wal, nowMs, policy.walResetStaleAfterSec);
  const snap = state.kind === "ok" ? state.snapshot : undefined;
  const writes = f.fresh ? writesVerdict(facts.window) : "unknown";
  const writerLock = f.fresh ? writerLockVerdict(facts.window, policy) : "unknown";
  // The real time, to the millisecond: a clock 120 s old is stale at 120.001 s, not at 121.
  const nowSec = nowMs / 1000;
  const failing = writes === "write_failing" && facts.window
    ? new Set(packetsGrew(facts.window))
    : undefined;
  const srcs = snap ? sources(snap, nowSec, policy, failing) : {};
  const clock = snap ? clockVerdict(snap, f, nowSec, policy.clockSkewMs / 1000) : "ok";
  const disk = diskVerdict(facts.disk, policy, {
    pageSize: facts.wal?.pageSize ?? 0,
    ingestFailing: writes === "write_failing" || (statsFile !== "fresh" && state.kind === "ok"),
  });
  const bad = Object.values(srcs).some((v) => v !== "ok" && v !== "never") ||
    writes === "write_failing" || database !== "ok" || clock !== "ok" ||
    disk === "low" || disk === "full" || writerLock === "contended";
  const out: IngestVerdicts = {
    status: statsFile !== "fresh" ? "down" : bad ? "degraded" : "ok",
    statsFile,
    sources: srcs,
    writes,
    database,
    clock,
    disk,
    writerLock,
  };
  const errors = (snap?.sourceStatuses ?? []).filter((s) =>
    srcs[s.name] === "disconnected" && s.lastError !== undefined
  );
  if (errors.length > 0) {
    out.lastErrors = Object.fromEntries(errors.map((s) => [s.name, s.lastError!]));
  }
  return out;
}

/**
 * The last millisecond at which {@linkcode judgeIngest} still gives what it gives at `nowMs`
 * for the same state and facts: the earliest threshold one of its clocks crosses after now (a
 * source's write or receipt clock going stale, a stamp no longer ahead, the WAL's reset age).
 * The stats file's own freshness is judged apart. Callers keep the verdicts until then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdictsValidUntil } from "./verdicts.ts";
 * import { parseStatsSnapshot } from "../inputs/stats_snapshot.ts";
 * const r = parseStatsSnapshot(JSON.stringify({
 *   source_liveness: { local: { lastReceiptUnix: 1000, lastMessageUnix: 990 } },
 * }));
 * if (!r.ok) throw new Error(r.error);
 * const state = { kind: "ok", version: 1, snapshot: r.snapshot } as const;
 * const policy = { receiptStaleAfterSec: 120, writeStaleAfterSec: 60, clockSkewMs: 2000,
 *   walResetStaleAfterSec: 120 };
 * // The write clock (990) goes stale after 1050 s: the verdicts hold to that millisecond.
 * assert.equal(verdictsValidUntil(state, { restarts: 0 }, policy, 1_010_000), 1_050_000);
 * ```
 */
export function verdictsValidUntil(
  state: StatsState,
  facts: IngestFacts,
  policy: Pick<
    JudgePolicy,
    "receiptStaleAfterSec" | "writeStaleAfterSec" | "clockSkewMs" | "walResetStaleAfterSec"
  >,
  nowMs: number,
): number {
  let until = Infinity;
  // A verdict that flips when `nowMs` passes `edge` holds up to `edge` (inclusive).
  const after = (edge: number) => {
    if (edge >= nowMs && edge < until) until = edge;
  };
  // One that flips when `nowMs` reaches `edge` holds up to the millisecond before.
  const at = (edge: number) => after(Math.ceil(edge) - 1);
  if (facts.wal) at(facts.wal.since + policy.walResetStaleAfterSec * 1000);
  if (state.kind !== "ok") return until;
  const snap = state.snapshot;
  const stamps: number[] = [];
  for (const l of Object.values(snap.sourceLiveness ?? {})) {
    after((l.lastMessageUnix + policy.writeStaleAfterSec) * 1000);
    after((l.lastReceiptUnix + policy.receiptStaleAfterSec) * 1000);
    stamps.push(l.lastReceiptUnix, l.lastMessageUnix);
  }
  for (const s of snap.sourceStatuses ?? []) {
    after((s.lastPacketUnix + policy.receiptStaleAfterSec) * 1000);
    stamps.push(s.lastPacketUnix, s.lastConnectUnix);
  }
  if (snap.watchdogLastTickUnix !== undefined) stamps.push(snap.watchdogLastTickUnix);
  for (const st of stamps) if (st < MS_STAMP) at(st * 1000 - policy.clockSkewMs);
  return until;
}
