/**
 * Will the database's filesystem fill up, and when: its free space and the database's size
 * (file plus WAL) kept over a window, a forecast from the faster of two rates (the database's
 * growth and the free space's decline, which also counts logs and whatever else fills the
 * disk), and the `disk` verdict. CoreScope's database only grows until retention catches up,
 * and small hosts run it on SD cards and small volumes: this says so before writes fail.
 *
 * @module
 */

import type { DiskReading } from "../inputs/disk_space.ts";

/** What the forecast knows at one observation. */
export interface DiskFacts {
  freeBytes: number;
  sizeBytes: number;
  /** The database file plus its WAL. */
  dbBytes: number;
  /** Seconds the kept observations span (up to the window). */
  spanSec: number;
  /** The window, seconds: the forecast speaks once the span is a quarter of it. */
  windowSec: number;
  /** True until the observations span a quarter of the window: no forecast yet. */
  learning: boolean;
  /** The database's growth over the span, bytes a second (negative: it shrank). */
  growthBytesPerSec: number;
  /** The faster of the database's growth and the free space's decline, bytes a second. */
  consumeBytesPerSec: number;
  /** Seconds until the free space is gone at that rate; absent when nothing is consumed. */
  fullInSec?: number;
}

/**
 * The disk's verdict: `low` when the free space would run out within the horizon at the
 * recent rate, or is under the floor; `full` when it is all but gone (less than SQLite needs
 * between two checkpoints) and the ingest shows it (writes failing, or the stats file no
 * longer written); `unknown` when the filesystem cannot be read.
 */
export type DiskVerdict = "ok" | "low" | "full" | "unknown";

/** The thresholds of the disk verdict. */
export interface DiskPolicy {
  /** Low when full within this many hours at the recent rate. */
  diskLowHours: number;
  /** Low under this much free space, MiB. */
  diskLowMiB: number;
  /** The window the rates are taken over, seconds. */
  diskWindowSec: number;
}

/** SQLite's default `wal_autocheckpoint`: the WAL grows up to this many pages between two. */
const AUTOCHECKPOINT_PAGES = 1000;
/** Observations kept: one per sixtieth of the window, so memory is fixed. */
const POINTS = 61;

interface Point {
  t: number;
  db: number;
  free: number;
}

/** The watch: one observation a second, facts out. */
export interface DiskWatch {
  observe(t: number, reading: DiskReading, dbBytes: number): DiskFacts | undefined;
}

/**
 * Creates a forecast over `windowSec`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDiskWatch } from "./disk_forecast.ts";
 * const w = createDiskWatch({ windowSec: 40 });
 * const disk = (free: number) => ({ ok: true as const, freeBytes: free, sizeBytes: 1e9 });
 * w.observe(0, disk(1_000_000), 0);
 * assert.equal(w.observe(5_000, disk(990_000), 10_000)!.learning, true);
 * const f = w.observe(10_000, disk(980_000), 20_000)!;
 * assert.equal(f.learning, false); // a quarter of the window
 * assert.equal(f.consumeBytesPerSec, 2000);
 * assert.equal(f.fullInSec, 490);
 * ```
 */
export function createDiskWatch(opts: { windowSec: number }): DiskWatch {
  const windowMs = opts.windowSec * 1000;
  const stepMs = Math.max(1000, windowMs / (POINTS - 1));
  let points: Point[] = [];
  return {
    observe(t, reading, dbBytes) {
      if (!reading.ok) {
        points = [];
        return undefined;
      }
      const now: Point = { t, db: dbBytes, free: reading.freeBytes };
      if (points.length > 0 && t < points.at(-1)!.t) points = []; // the clock went back
      const last = points.at(-1);
      if (!last || t - last.t >= stepMs) points.push(now);
      while (points.length > 1 && (points[0]!.t < t - windowMs || points.length > POINTS)) {
        points.shift();
      }
      return factsOf(points[0]!, now, reading.sizeBytes, opts.windowSec);
    },
  };
}

/** The facts from the oldest kept observation to this one. */
function factsOf(from: Point, now: Point, sizeBytes: number, windowSec: number): DiskFacts {
  const spanSec = (now.t - from.t) / 1000;
  const growth = spanSec > 0 ? (now.db - from.db) / spanSec : 0;
  const decline = spanSec > 0 ? (from.free - now.free) / spanSec : 0;
  const consume = Math.max(growth, decline);
  return {
    freeBytes: now.free,
    sizeBytes,
    dbBytes: now.db,
    spanSec,
    windowSec,
    learning: spanSec < windowSec / 4,
    growthBytesPerSec: growth,
    consumeBytesPerSec: Math.max(0, consume),
    ...(consume > 0 ? { fullInSec: now.free / consume } : {}),
  };
}

/**
 * Judges the disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskVerdict } from "./disk_forecast.ts";
 * const policy = { diskLowHours: 24, diskLowMiB: 256, diskWindowSec: 3600 };
 * const facts = {
 *   freeBytes: 8 * 2 ** 30, sizeBytes: 32 * 2 ** 30, dbBytes: 2 ** 30, spanSec: 3600, windowSec: 3600,
 *   learning: false, growthBytesPerSec: 1000, consumeBytesPerSec: 1000,
 *   fullInSec: 8 * 2 ** 30 / 1000,
 * };
 * assert.equal(diskVerdict(facts, policy, { pageSize: 4096, ingestFailing: false }), "ok");
 * assert.equal(diskVerdict({ ...facts, fullInSec: 3600 }, policy, { pageSize: 4096, ingestFailing: false }), "low");
 * assert.equal(diskVerdict(undefined, policy, { pageSize: 4096, ingestFailing: false }), "unknown");
 * ```
 */
export function diskVerdict(
  disk: DiskFacts | undefined,
  policy: DiskPolicy,
  ingest: { pageSize: number; ingestFailing: boolean },
): DiskVerdict {
  if (!disk) return "unknown";
  const checkpointBytes = AUTOCHECKPOINT_PAGES * (ingest.pageSize || 4096);
  if (disk.freeBytes <= checkpointBytes && ingest.ingestFailing) return "full";
  if (disk.freeBytes < policy.diskLowMiB * 1024 * 1024) return "low";
  const soon = disk.fullInSec !== undefined && disk.fullInSec < policy.diskLowHours * 3600;
  return !disk.learning && soon ? "low" : "ok";
}
