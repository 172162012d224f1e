/**
 * What the ingest did over the last seconds, kept from one 1 Hz observation to the next: the
 * counters that say whether it writes (rows written, write errors, packets received per
 * source) and the WAL's generation (its header's salts and checkpoint sequence change each
 * time the WAL is reset). The clocks in the stats file alone cannot say "is my ingest
 * writing?": CoreScope's ingestor stamps a source's message clock when a handler starts,
 * before the write, so a locked database leaves it fresh. The counters can.
 *
 * Counters are cumulative and start again at 0 with the ingestor: a decrease is a restart
 * (reported once), never a failure or a negative rate.
 *
 * @module
 */

import { getOwn } from "../base/records.ts";
import type { DiskReading } from "../inputs/disk_space.ts";
import type { StatsSnapshot } from "../inputs/stats_snapshot.ts";
import { createDiskWatch, type DiskFacts } from "./disk_forecast.ts";

/** One observation of the write counters. */
export interface CounterPoint {
  /** Unix ms. */
  t: number;
  /** `tx_inserted + tx_dupes + obs_inserted`: every row the ingestor wrote. */
  writes: number;
  errors: number;
  /** `packetsTotal` per source (by its shown name). */
  packets: Record<string, number>;
  /** The writer lock per component, when the file has `writer_perf`. */
  writers?: Record<string, WriterPoint>;
}

/** One component's writer-lock figures as the ingestor publishes them. */
export interface WriterPoint {
  /** Writes so far. */
  count: number;
  /** Writes so far that waited over 100 ms for the lock. */
  contention: number;
  /** p99 of the wait and of the hold, ms, over the component's last 1024 writes. */
  waitP99: number;
  holdP99: number;
}

/** The WAL's current generation, and since when it has been the same. */
export interface WalWatch {
  /** Salts and checkpoint sequence of the WAL header. */
  generation: string;
  /** Unix ms of the first observation of this generation, and seconds since, at the last. */
  since: number;
  ageSec: number;
  /** WAL bytes then, and now. */
  sizeAtSince: number;
  size: number;
  pageSize: number;
}

/** What the judge reads: replaced (never edited) at each observation. */
export interface IngestFacts {
  /** The oldest and newest observations within the window, since the last restart. */
  window?: { from: CounterPoint; to: CounterPoint };
  wal?: WalWatch;
  /** The database's filesystem and its forecast, while it can be read. */
  disk?: DiskFacts;
  /** Restarts of the ingestor seen so far (a counter went backwards). */
  restarts: number;
}

/** What one observation reads from the database reading. */
export interface WalReading {
  walSize: number;
  pageSize: number;
  /** The database file's size (with `walSize`, what the disk forecast follows). */
  dbSize?: number;
  /** Absent when there is no WAL (or the database is not in WAL mode). */
  walGeneration?: string;
}

/** The watch. */
export interface IngestWatch {
  /**
   * Records one observation at `t`; `snapshot` only while the stats file is fresh; `disk`, the
   * database's filesystem, when it was read.
   */
  observe(
    t: number,
    snapshot: StatsSnapshot | undefined,
    wal: WalReading,
    disk?: DiskReading,
  ): IngestFacts;
  facts(): IngestFacts;
}

/** The counters a point is made of: every row written, and the write errors. */
const WRITE_COUNTERS = ["tx_inserted", "tx_dupes", "obs_inserted", "write_errors"] as const;

/**
 * Write counters of a snapshot; `undefined` when the file lacks one of them (omitted by an
 * older ingestor, or of the wrong type): a 0 that was never counted judges nothing.
 */
function pointOf(t: number, snap: StatsSnapshot): CounterPoint | undefined {
  const c = snap.counters;
  if (snap.omitted?.some((n) => (WRITE_COUNTERS as readonly string[]).includes(n))) {
    return undefined;
  }
  if (c.tx_inserted === undefined || c.tx_dupes === undefined || c.obs_inserted === undefined) {
    return undefined;
  }
  if (c.write_errors === undefined) return undefined;
  const packets: Record<string, number> = {};
  for (const s of snap.sourceStatuses ?? []) packets[s.name] = s.packetsTotal;
  const point: CounterPoint = {
    t,
    writes: c.tx_inserted + c.tx_dupes + c.obs_inserted,
    errors: c.write_errors,
    packets,
  };
  if (snap.writerPerf) {
    const writers: Record<string, WriterPoint> = {};
    for (const [name, w] of Object.entries(snap.writerPerf)) {
      writers[name] = {
        count: w.count,
        contention: w.contention_total,
        waitP99: w.wait_ms_p99,
        holdP99: w.hold_ms_p99,
      };
    }
    point.writers = writers;
  }
  return point;
}

/** True when any counter of `b` is below `a`'s: the ingestor started again between them. */
function wentBack(a: CounterPoint, b: CounterPoint): boolean {
  if (b.writes < a.writes || b.errors < a.errors) return true;
  return Object.entries(b.packets).some(([name, n]) => n < (getOwn(a.packets, name) ?? 0));
}

/**
 * Creates a watch whose window is `windowSec` long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createIngestWatch } from "./ingest_watch.ts";
 * import { parseStatsSnapshot } from "../inputs/stats_snapshot.ts";
 * const snap = (n: number) => {
 *   const counters = { tx_inserted: n, tx_dupes: 0, obs_inserted: 0, write_errors: 0 };
 *   const r = parseStatsSnapshot(JSON.stringify(counters));
 *   if (!r.ok) throw new Error(r.error);
 *   return r.snapshot;
 * };
 * const watch = createIngestWatch({ windowSec: 30, onRestart: () => {} });
 * const wal = { walSize: 0, pageSize: 4096 };
 * watch.observe(0, snap(10), wal);
 * const facts = watch.observe(1000, snap(15), wal);
 * assert.equal(facts.window!.to.writes - facts.window!.from.writes, 5);
 * assert.equal(watch.observe(2000, snap(0), wal).restarts, 1); // back to 0: a restart
 * ```
 */
export function createIngestWatch(opts: {
  windowSec: number;
  /** The disk forecast's window, seconds (default an hour). */
  diskWindowSec?: number;
  /** Called once per restart seen, with the counter values before and after. */
  onRestart: (before: CounterPoint, after: CounterPoint) => void;
}): IngestWatch {
  // At 1 Hz a window holds windowSec + 1 points; the cap keeps a fast caller bounded too.
  const cap = Math.max(4, 4 * opts.windowSec + 4);
  let points: CounterPoint[] = [];
  let facts: IngestFacts = { restarts: 0 };
  const disks = createDiskWatch({ windowSec: opts.diskWindowSec ?? 3600 });

  function observeCounters(t: number, snap: StatsSnapshot | undefined): IngestFacts["window"] {
    const p = snap ? pointOf(t, snap) : undefined;
    if (p) {
      const last = points.at(-1);
      if (last && wentBack(last, p)) {
        opts.onRestart(last, p);
        facts = { ...facts, restarts: facts.restarts + 1 };
        points = [];
      }
      points.push(p);
    }
    const start = t - opts.windowSec * 1000;
    // Keep one point at or before the window's start, so the window spans all of it; points
    // all older than the start (the file went stale) leave one, and no window.
    while (points.length > 1 && (points[1]!.t <= start || points.length > cap)) points.shift();
    if (points.length < 2) return undefined;
    return { from: points[0]!, to: points.at(-1)! };
  }

  function observeWal(t: number, r: WalReading): WalWatch | undefined {
    if (r.walGeneration === undefined) return undefined;
    const w = facts.wal;
    if (w && w.generation === r.walGeneration) {
      return { ...w, size: r.walSize, ageSec: Math.round((t - w.since) / 1000) };
    }
    return {
      generation: r.walGeneration,
      since: t,
      ageSec: 0,
      sizeAtSince: r.walSize,
      size: r.walSize,
      pageSize: r.pageSize,
    };
  }

  return {
    observe(t, snap, wal, reading) {
      const window = observeCounters(t, snap);
      const w = observeWal(t, wal);
      const disk = reading && disks.observe(t, reading, (wal.dbSize ?? 0) + wal.walSize);
      facts = {
        restarts: facts.restarts,
        ...(window ? { window } : {}),
        ...(w ? { wal: w } : {}),
        ...(disk ? { disk } : {}),
      };
      return facts;
    },
    facts: () => facts,
  };
}
