/**
 * SQLite figures of the operator's database, without ever holding it open or writing beside
 * it. Each reading is taken fresh and closed:
 * - a WAL database is never opened through SQLite (even a read-only connection writes its
 *   read marks into `-shm`, creates `-wal`/`-shm` when they are gone, and its open handle
 *   keeps the ingestor's clean shutdown from removing them): its figures come from the
 *   100-byte header and the WAL's frame headers, read as plain files;
 * - a rollback-journal database is opened read-only through `node:sqlite` with no busy
 *   wait, read with three autocommit PRAGMAs and closed at once, so no read transaction
 *   outlives a reading and a writer's lock gives an immediate error, never a stalled loop.
 *
 * @module
 */

import * as fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { coalesce } from "../base/coalesce.ts";
import type { Logger } from "../base/log.ts";
import {
  failureFromError,
  identityKey,
  probeFile,
  readFileHead,
  withRegularFile,
} from "../base/safe_read.ts";
import {
  parseSqliteHeader,
  parseWalHeader,
  WAL_FRAME_HEADER_BYTES,
  WAL_HEADER_BYTES,
  type WalChecksum,
  walFrameValid,
} from "./sqlite_header.ts";

/**
 * Bytes of WAL one reading checks at most (frames are read whole and checksummed, about
 * 1 ms per MiB here). A longer WAL is scanned in slices of this size, each in its own turn
 * of the event loop, so no request waits behind more than one slice.
 */
export const WAL_SLICE_BYTES = 4 * 1024 * 1024;
/** Pause between two slices of one scan (ms): the event loop runs between them. */
export const WAL_SLICE_PAUSE_MS = 1;
const WAL_READ_BYTES = 1024 * 1024;

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
  /** Nothing is held between readings; stops an unfinished WAL scan's next slice. */
  close(): void;
}

/** Dependencies of {@linkcode createSqliteStats}. */
export interface SqliteStatsOptions {
  path: string;
  log: Logger;
  /** Reads page_count, page_size, cache_size of a rollback-journal database; throws on error. */
  pragmas?: (path: string) => [number, number, number];
  /** Under a burst of calls, reuse one reading for this long (ms); 0 never reuses. */
  coalesceMs?: number;
  /** Monotonic clock (ms) for `coalesceMs`. */
  mono?: () => number;
  /** Bytes of WAL one reading checks at most (default {@linkcode WAL_SLICE_BYTES}). */
  walSliceBytes?: number;
  /**
   * Runs the next slice of an unfinished WAL scan later (default: a timer of
   * {@linkcode WAL_SLICE_PAUSE_MS}, unref'd); returns a function that cancels it.
   */
  schedule?: (next: () => void) => () => void;
}

/**
 * Opens a rollback-journal database read-only, reads `PRAGMA page_count`, `page_size` and
 * `cache_size` (each its own autocommit statement) and closes it. No busy wait: a writer's
 * lock throws `database is locked` at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPragmas } from "./sqlite_stats.ts";
 * assert.throws(() => readPragmas("/nonexistent.db"));
 * ```
 */
export function readPragmas(path: string): [number, number, number] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 0");
    return ["page_count", "page_size", "cache_size"].map((p) => {
      const row = db.prepare(`PRAGMA ${p}`).get() as Record<string, unknown> | undefined;
      const v = row ? Object.values(row)[0] : undefined;
      return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0;
    }) as [number, number, number];
  } finally {
    db.close();
  }
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
  ino: bigint;
  salt1: number;
  salt2: number;
  checkpointSeq: number;
  /** Valid frames so far, and the running checksum after the last of them. */
  frames: number;
  checksum: WalChecksum;
  /** Database size in pages after the last commit found (0: none yet). */
  pages: number;
  /** False while frames past `frames` are still to be checked (the slice budget ran out). */
  complete: boolean;
}

/**
 * The database size in pages after the WAL's last valid commit. Checks each frame as SQLite
 * does (salts, page number, running checksum: the log ends at the first frame that fails),
 * resuming where `prev` stopped when the WAL is the same file in the same generation, and
 * reading at most `budget` bytes of frames: `complete` says whether it got to the end.
 */
function scanWal(walPath: string, prev: WalScan | undefined, budget: number): WalScan | undefined {
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
        const commit = new DataView(frame.buffer, frame.byteOffset, 8).getUint32(4);
        if (commit > 0) scan.pages = commit;
      }
      left -= n;
    }
    return scan;
  });
  return r.ok ? r.value : undefined;
}

/**
 * One reading of the files: the header, and the WAL (resuming `wal`, one slice at most) or,
 * for a rollback-journal database, its PRAGMAs. Failures are figures with an `error`.
 */
function readDatabase(
  path: string,
  wal: WalScan | undefined,
  sliceBytes: number,
  pragmas: (path: string) => [number, number, number],
): { figures: SqliteFigures; wal: WalScan | undefined } {
  const fail = (error: string) => ({ figures: { ...ZERO, error }, wal });
  const head = readFileHead(path, 100);
  if (!head.ok) return fail(head.failure.detail);
  if (head.bytes.length === 0) return fail(`${path} is empty (0 bytes)`);
  const h = parseSqliteHeader(head.bytes, Number(head.identity.size));
  if (!h) return fail(`${path} is not a SQLite database`);
  const walSize = walFileSize(path);
  let { pageCount, pageSize, cacheSize } = h;
  if (h.wal) {
    // The main file's header is as of the last checkpoint; later commits are in the WAL.
    wal = walSize > 0 ? scanWal(`${path}-wal`, wal, sliceBytes) : undefined;
    if (wal && wal.pages > 0) pageCount = wal.pages;
  } else {
    try {
      [pageCount, pageSize, cacheSize] = pragmas(path);
    } catch (err) {
      // A writer's lock ("database is locked"), a hot journal a reader cannot roll back.
      const f = failureFromError(path, err);
      return fail(f.kind === "io_error" ? `${path}: ${(err as Error)?.message ?? err}` : f.detail);
    }
  }
  const figures: SqliteFigures = {
    walSizeMB: walSize / 1048576,
    walSize,
    pageCount,
    pageSize,
    cacheSize,
  };
  if (h.wal && wal) figures.walGeneration = `${wal.salt1}.${wal.salt2}.${wal.checkpointSeq}`;
  return { figures, wal };
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
  const pragmas = opts.pragmas ?? readPragmas;
  const sliceBytes = opts.walSliceBytes ?? WAL_SLICE_BYTES;
  const schedule = opts.schedule ?? later;
  let wal: WalScan | undefined;
  let cancelNext: (() => void) | undefined;
  let last: SqliteFigures = ZERO;
  // The identity (dev, inode, size, mtime in ns) of the database and its WAL at the last
  // good reading: while neither changed, neither did the figures, and two lstats answer.
  let goodKey = "";

  function readNow(): SqliteFigures {
    const probe = probeFile(path);
    if (!probe.ok) {
      log.condition("database", probe.failure.detail);
      return { ...ZERO, error: probe.failure.detail };
    }
    const walProbe = probeFile(`${path}-wal`);
    const key = identityKey(probe.identity) +
      (walProbe.ok ? `|${identityKey(walProbe.identity)}` : "|-");
    if (key === goodKey) return last;
    const r = readDatabase(path, wal, sliceBytes, pragmas);
    wal = r.wal;
    log.condition("database", r.figures.error);
    const figures = r.figures;
    // Only a good, whole reading is kept: a lock that goes away without a write changes no
    // file, and a WAL scan cut at its budget goes on at the next reading.
    const whole = wal === undefined || wal.complete;
    goodKey = figures.error === undefined && whole ? key : "";
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
    close() {
      cancelNext?.();
      cancelNext = undefined;
    },
  };
}

/** Runs `next` after {@linkcode WAL_SLICE_PAUSE_MS}, without keeping the process alive. */
function later(next: () => void): () => void {
  const id = setTimeout(next, WAL_SLICE_PAUSE_MS);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
}
