/**
 * SQLite figures of the operator's database, without ever opening it through SQLite, holding
 * it open or writing beside it. Each reading reads plain files and closes them:
 * - the 100-byte database header gives the page size, the suggested cache size and, for a
 *   rollback-journal database, the page count (SQLite keeps it there since 3.7.0); its cost
 *   is the same whatever the schema (PRAGMAs through SQLite parse the whole schema first: 3-4 s
 *   for 1,200 tables of 1,000 columns), and it never takes or waits on a lock;
 * - a WAL database's page count comes from the WAL's last valid commit, its frames checked as
 *   SQLite checks them, in slices. (Even a read-only SQLite connection writes its read marks
 *   into `-shm`, creates `-wal`/`-shm` when they are gone, and its open handle keeps the
 *   ingestor's clean shutdown from removing them.)
 * A size the files cannot hold (a header claiming more pages than the file has) is reported
 * as an `error`, with the figure the file gives.
 *
 * @module
 */

import * as fs from "node:fs";
import { coalesce } from "../base/coalesce.ts";
import type { Logger } from "../base/log.ts";
import {
  headKeeper,
  identityKey,
  probeFile,
  type ProbeResult,
  readFileHead,
  type ReadResult,
  withRegularFile,
} from "../base/safe_read.ts";
import {
  parseSqliteHeader,
  parseWalHeader,
  WAL_FRAME_HEADER_BYTES,
  WAL_HEADER_BYTES,
  type WalChecksum,
  walFrameValid,
  type WalHeader,
} from "./sqlite_header.ts";

/**
 * Bytes of WAL one reading checks at most (frames are read whole and checksummed, about
 * 1 ms per MiB here). A longer WAL is scanned in slices of this size, each in its own turn
 * of the event loop, so no request waits behind more than one slice.
 */
export const WAL_SLICE_BYTES = 4 * 1024 * 1024;
/** Pause between two slices of one scan (ms): the event loop runs between them. */
export const WAL_SLICE_PAUSE_MS = 1;
/**
 * Bytes of frames one read asks for. Small reads cost more calls and less of everything else:
 * scanning a 4 MiB WAL at start in reads of 1 MiB grew RSS by 13.5 MiB and took 27-38 ms, in
 * reads of 16 KiB by 6.5 MiB and 23 ms (the buffers come and go within the allocator's arena
 * instead of a fresh mapping each).
 */
const WAL_READ_BYTES = 16 * 1024;

/** The body of `/api/perf/sqlite`, less `cacheHitRate` (not a database figure). */
export interface SqliteFigures {
  walSizeMB: number;
  walSize: number;
  pageCount: number;
  pageSize: number;
  cacheSize: number;
  /** Additive: why the figures are zeros (or partial), when they are. */
  error?: string;
  /**
   * The WAL's generation (header salts and checkpoint sequence: they change each time the
   * WAL is reset), for the checkpoint-starvation verdict; not part of any body.
   */
  walGeneration?: string;
}

/** The reader. */
export interface SqliteStats {
  read(): SqliteFigures;
  /**
   * What a once-a-second watch needs, without checking a frame: the files' sizes and the WAL's
   * generation from its 32-byte header (the page count is {@linkcode SqliteStats.read}'s).
   */
  glance(): Glance;
  /** Nothing is held between readings; stops an unfinished WAL scan's next slice. */
  close(): void;
}

/** The database at a glance: sizes in bytes, the page size, and the WAL's generation. */
export interface Glance {
  dbSize: number;
  walSize: number;
  pageSize: number;
  /** Absent without a WAL that has a valid header. */
  walGeneration?: string;
}

/**
 * A glance at the database `path` (see {@linkcode SqliteStats.glance}); `pageSizeOf` gives
 * the page size from the database header when the WAL has none, `walHeaderOf` the WAL's
 * header (both read again only when their file changed).
 */
function glanceAt(
  path: string,
  pageSizeOf: (probe: ProbeResult) => number,
  walHeaderOf: (probe: ProbeResult) => WalHeader | undefined,
): Glance {
  const probe = probeFile(path), walProbe = probeFile(`${path}-wal`);
  const dbSize = probe.ok ? probe.identity.size : 0;
  const walSize = walProbe.ok ? walProbe.identity.size : 0;
  if (walSize >= WAL_HEADER_BYTES) {
    const h = walHeaderOf(walProbe);
    if (h) {
      return {
        dbSize,
        walSize,
        pageSize: h.pageSize,
        walGeneration: `${h.salt1}.${h.salt2}.${h.checkpointSeq}`,
      };
    }
  }
  return { dbSize, walSize, pageSize: probe.ok ? pageSizeOf(probe) : 0 };
}

/** Dependencies of {@linkcode createSqliteStats}. */
export interface SqliteStatsOptions {
  path: string;
  log: Logger;
  /** Reads the first bytes of the database (default: the safe reader's `readFileHead`). */
  readHead?: (path: string, n: number, probe?: ProbeResult) => ReadResult;
  /** Under a burst of calls, reuse one reading for this long (ms); 0 never reuses. */
  coalesceMs?: number;
  /** Monotonic clock (ms) for `coalesceMs`. */
  mono?: () => number;
  /** Wall clock (ms), against file mtimes: is the WAL's last change settled? */
  wall?: () => number;
  /** Bytes of WAL one reading checks at most (default {@linkcode WAL_SLICE_BYTES}). */
  walSliceBytes?: number;
  /**
   * Runs the next slice of an unfinished WAL scan later (default: a timer of
   * {@linkcode WAL_SLICE_PAUSE_MS}, unref'd); returns a function that cancels it.
   */
  schedule?: (next: () => void) => () => void;
}

/**
 * Size of `PATH-wal` in bytes, 0 when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walFileSize } from "./sqlite_stats.ts";
 * assert.equal(walFileSize("/nonexistent.db"), 0);
 * ```
 */
export function walFileSize(dbPath: string): number {
  try {
    const st = fs.lstatSync(dbPath + "-wal");
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** Where the last WAL scan stopped, so the next one reads only the frames added since. */
interface WalScan {
  ino: number;
  salt1: number;
  salt2: number;
  checkpointSeq: number;
  /** Valid frames so far, and the running checksum after the last of them. */
  frames: number;
  checksum: WalChecksum;
  /** Database size in pages after the last commit found (0: none yet). */
  pages: number;
  /** The highest page number a valid frame wrote. */
  maxPage: number;
  /** False while frames past `frames` are still to be checked (the slice budget ran out). */
  complete: boolean;
}

/**
 * The database size in pages after the WAL's last valid commit. Checks each frame as SQLite
 * does (salts, page number, running checksum: the log ends at the first frame that fails),
 * resuming where `prev` stopped when the WAL is the same file in the same generation, and
 * reading at most `budget` bytes of frames: `complete` says whether it got to the end.
 */
function scanWal(
  walPath: string,
  prev: WalScan | undefined,
  budget: number,
  probe: ProbeResult,
): WalScan | undefined {
  const r = withRegularFile(walPath, (read, id): WalScan | undefined => {
    const h = parseWalHeader(read(0, WAL_HEADER_BYTES));
    if (!h) return undefined;
    const same = prev && prev.ino === id.ino && prev.salt1 === h.salt1 &&
      prev.salt2 === h.salt2 && prev.checkpointSeq === h.checkpointSeq;
    const scan: WalScan = same ? { ...prev, complete: false } : {
      ino: id.ino,
      salt1: h.salt1,
      salt2: h.salt2,
      checkpointSeq: h.checkpointSeq,
      frames: 0,
      checksum: h.checksum,
      pages: 0,
      maxPage: 0,
      complete: false,
    };
    const frameBytes = WAL_FRAME_HEADER_BYTES + h.pageSize;
    const size = Number(id.size);
    let left = Math.max(1, Math.floor(budget / frameBytes));
    while (left > 0) {
      const at = WAL_HEADER_BYTES + scan.frames * frameBytes;
      // A frame still being written is not in the log yet.
      const whole = Math.floor((size - at) / frameBytes);
      if (whole <= 0) return { ...scan, complete: true };
      const n = Math.min(whole, left, Math.max(1, Math.floor(WAL_READ_BYTES / frameBytes)));
      const chunk = read(at, n * frameBytes);
      for (let i = 0; i < n; i++) {
        const frame = chunk.subarray(i * frameBytes, (i + 1) * frameBytes);
        const sum = walFrameValid(frame, h, scan.checksum);
        if (sum === undefined) return { ...scan, complete: true }; // the valid log ends here
        scan.checksum = sum;
        scan.frames++;
        const head = new DataView(frame.buffer, frame.byteOffset, 8);
        scan.maxPage = Math.max(scan.maxPage, head.getUint32(0));
        const commit = head.getUint32(4);
        if (commit > 0) scan.pages = commit;
      }
      left -= n;
    }
    return scan;
  }, probe);
  return r.ok ? r.value : undefined;
}

/** One reading: the figures, where the WAL scan stands, and whether it may be kept. */
interface Reading {
  figures: SqliteFigures;
  wal: WalScan | undefined;
  /** A failure to read (permission, I/O) may pass without the files changing: not kept. */
  transient: boolean;
}

/**
 * One reading of the files: the header, and for a WAL database the WAL (resuming `wal`, one
 * slice at most). Failures are figures with an `error`; so is a size the files cannot hold.
 */
function readDatabase(
  path: string,
  wal: WalScan | undefined,
  sliceBytes: number,
  io: {
    /** The database's first 100 bytes, under its lstat just taken. */
    head: (path: string, probe: ProbeResult) => ReadResult;
    probe: ProbeResult;
    walProbe: ProbeResult;
  },
): Reading {
  const fail = (error: string, transient = false) => ({
    figures: { ...ZERO, error },
    wal,
    transient,
  });
  const head = io.head(path, io.probe);
  if (!head.ok) return fail(head.failure.detail, true);
  if (head.bytes.length === 0) return fail(`${path} is empty (0 bytes)`);
  const fileSize = head.identity.size;
  const h = parseSqliteHeader(head.bytes, fileSize);
  if (!h) return fail(`${path} is not a SQLite database`);
  const walSize = io.walProbe.ok ? io.walProbe.identity.size : 0;
  const { pageSize, cacheSize } = h;
  const filePages = Math.ceil(fileSize / pageSize);
  let pageCount = Math.min(h.pageCount, filePages);
  let error = h.pageCount > filePages
    ? `${path}: the header claims ${h.pageCount} pages, the file holds ${filePages}`
    : undefined;
  if (h.wal) {
    // The main file's header is as of the last checkpoint; later commits are in the WAL. A
    // commit can hold the pages the file has and those the log wrote, no more.
    wal = walSize > 0 ? scanWal(`${path}-wal`, wal, sliceBytes, io.walProbe) : undefined;
    if (wal && wal.pages > 0) {
      const most = Math.max(filePages, wal.maxPage);
      if (wal.pages > most) {
        error ??= `${path}-wal: a commit claims ${wal.pages} pages, the files hold ${most}`;
      }
      pageCount = Math.min(wal.pages, most);
    }
  }
  const figures: SqliteFigures = {
    walSizeMB: walSize / 1048576,
    walSize,
    pageCount,
    pageSize,
    cacheSize,
  };
  if (error !== undefined) figures.error = error;
  if (h.wal && wal) figures.walGeneration = `${wal.salt1}.${wal.salt2}.${wal.checkpointSeq}`;
  return { figures, wal, transient: false };
}

const ZERO: SqliteFigures = { walSizeMB: 0, walSize: 0, pageCount: 0, pageSize: 0, cacheSize: 0 };

function sameFigures(a: SqliteFigures, b: SqliteFigures): boolean {
  return a.walSize === b.walSize && a.pageCount === b.pageCount && a.pageSize === b.pageSize &&
    a.cacheSize === b.cacheSize && a.error === b.error && a.walGeneration === b.walGeneration;
}

/**
 * Creates the reader. Nothing is opened until the first {@linkcode SqliteStats.read}, and
 * nothing stays open after one. An unchanged reading is returned as the same object, so
 * bodies cached on it stay valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSqliteStats } from "./sqlite_stats.ts";
 * import { silentLogger } from "../base/log.ts";
 * const s = createSqliteStats({ path: "/nonexistent.db", log: silentLogger });
 * assert.deepEqual(s.read(), {
 *   walSizeMB: 0, walSize: 0, pageCount: 0, pageSize: 0, cacheSize: 0,
 *   error: "/nonexistent.db does not exist",
 * });
 * ```
 */
export function createSqliteStats(opts: SqliteStatsOptions): SqliteStats {
  const { path, log } = opts;
  const sliceBytes = opts.walSliceBytes ?? WAL_SLICE_BYTES;
  const wall = opts.wall ?? Date.now;
  // In WAL mode the database file changes only at checkpoints: a new version of the WAL
  // alone does not read its header again.
  const head = headKeeper(100, wall, opts.readHead ?? readFileHead);
  const schedule = opts.schedule ?? later;
  let wal: WalScan | undefined;
  let cancelNext: (() => void) | undefined;
  let last: SqliteFigures = ZERO;
  // The identity (dev, inode, size, mtime) of the database and its WAL at the last
  // whole reading: while neither changed, neither did the figures, and two lstats answer.
  let keptKey = "";

  function readNow(): SqliteFigures {
    const probe = probeFile(path);
    if (!probe.ok) {
      log.condition("database", probe.failure.detail);
      return { ...ZERO, error: probe.failure.detail };
    }
    const walProbe = probeFile(`${path}-wal`);
    const key = identityKey(probe.identity) +
      (walProbe.ok ? `|${identityKey(walProbe.identity)}` : "|-");
    if (key === keptKey) return last;
    const r = readDatabase(path, wal, sliceBytes, { head, probe, walProbe });
    wal = r.wal;
    log.condition("database", r.figures.error);
    const figures = r.figures;
    // A whole reading is kept (what the files say does not change while they do not); a
    // failure to read is tried again, and a WAL scan cut at its budget goes on.
    const whole = wal === undefined || wal.complete;
    keptKey = !r.transient && whole ? key : "";
    if (!whole) {
      cancelNext ??= schedule(() => {
        cancelNext = undefined;
        read();
      });
    }
    return figures;
  }

  // Under a burst of requests one reading serves them all for `coalesceMs`; a lone request
  // always reads.
  const read = coalesce(() => {
    const next = readNow();
    if (!sameFigures(next, last)) last = next;
    return last;
  }, { windowMs: opts.coalesceMs ?? 0, mono: opts.mono });

  return {
    read,
    glance: glancer(path, head, wall),
    close() {
      cancelNext?.();
      cancelNext = undefined;
    },
  };
}

/**
 * The glance of {@linkcode SqliteStats.glance}: the database's header from `head` (kept while
 * the file is unchanged), the WAL's from its own keeper. A second in which nothing was written
 * reads nothing but the two lstats.
 */
function glancer(
  path: string,
  head: (path: string, probe: ProbeResult) => ReadResult,
  wall: () => number,
): () => Glance {
  const pageSizeOf = (probe: ProbeResult) => {
    const r = head(path, probe);
    return (r.ok ? parseSqliteHeader(r.bytes, r.identity.size)?.pageSize : undefined) ?? 0;
  };
  // A WAL reset rewrites its header, and any write moves the file's size or mtime.
  const walHead = headKeeper(WAL_HEADER_BYTES, wall);
  const walHeaderOf = (probe: ProbeResult) => {
    const r = walHead(`${path}-wal`, probe);
    return r.ok ? parseWalHeader(r.bytes) : undefined;
  };
  return () => glanceAt(path, pageSizeOf, walHeaderOf);
}

/** Runs `next` after {@linkcode WAL_SLICE_PAUSE_MS}, without keeping the process alive. */
function later(next: () => void): () => void {
  const id = setTimeout(next, WAL_SLICE_PAUSE_MS);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
}
