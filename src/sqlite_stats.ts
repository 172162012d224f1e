/**
 * SQLite figures of the operator's database through Deno's built-in `node:sqlite`, opened
 * read-only and lazily, reopened when the file is replaced. Each PRAGMA is its own
 * autocommit statement, so no read transaction outlives a request: a held reader would stop
 * the ingestor's WAL checkpoints and let the WAL grow without bound.
 *
 * @module
 */

import * as fs from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { coalesce } from "./coalesce.ts";
import type { Logger } from "./log.ts";
import { failureFromError, probeFile, readFileHead } from "./safe_read.ts";
import { parseSqliteHeader } from "./sqlite_header.ts";

/** The body of `/api/perf/sqlite`, less `cacheHitRate` (not a database figure). */
export interface SqliteFigures {
  walSizeMB: number;
  walSize: number;
  pageCount: number;
  pageSize: number;
  cacheSize: number;
  /** Additive: why the figures are zeros (or partial), when they are. */
  error?: string;
}

/** The reader. */
export interface SqliteStats {
  read(): SqliteFigures;
  close(): void;
}

/** The part of a `node:sqlite` database this module uses; injectable for tests. */
export interface ReadOnlyDb {
  prepare(sql: string): Pick<StatementSync, "get">;
  close(): void;
}

/** Dependencies of {@linkcode createSqliteStats}. */
export interface SqliteStatsOptions {
  path: string;
  log: Logger;
  open?: (path: string) => ReadOnlyDb;
  /** Bytes of the `-wal` file, 0 when there is none. */
  walSize?: (path: string) => number;
  /** Whether the `-shm` file exists. */
  shmExists?: (path: string) => boolean;
  /** Under a burst of calls, reuse one reading for this long (ms); 0 never reuses. */
  coalesceMs?: number;
  /** Monotonic clock (ms) for `coalesceMs`. */
  mono?: () => number;
}

/**
 * Opens a database read-only with a short busy timeout, so a writer's exclusive lock gives
 * a bounded wait and an error rather than a hang.
 *
 * @example
 * ```ts
 * import { openReadOnly } from "./sqlite_stats.ts";
 * try { openReadOnly("/nonexistent.db"); } catch (e) { console.log("cannot open"); }
 * ```
 */
export function openReadOnly(path: string): ReadOnlyDb {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 100");
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Whether `PATH-shm` exists: without it, SQLite would create `-wal` and `-shm` to open a WAL
 * database, even read-only.
 *
 * @example
 * ```ts
 * import { shmExists } from "./sqlite_stats.ts";
 * shmExists("/nonexistent.db"); // false
 * ```
 */
export function shmExists(dbPath: string): boolean {
  try {
    return fs.lstatSync(dbPath + "-shm").isFile();
  } catch {
    return false;
  }
}

/**
 * Size of `PATH-wal` in bytes, 0 when absent.
 *
 * @example
 * ```ts
 * import { walFileSize } from "./sqlite_stats.ts";
 * walFileSize("/nonexistent.db"); // 0
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

const ZERO: SqliteFigures = { walSizeMB: 0, walSize: 0, pageCount: 0, pageSize: 0, cacheSize: 0 };

/**
 * Creates the reader. Nothing is opened until the first {@linkcode SqliteStats.read}.
 *
 * @example
 * ```ts
 * import { createSqliteStats } from "./sqlite_stats.ts";
 * import { silentLogger } from "./log.ts";
 * const s = createSqliteStats({ path: "/nonexistent.db", log: silentLogger });
 * console.log(s.read()); // zeros, with error: "/nonexistent.db does not exist"
 * ```
 */
export function createSqliteStats(opts: SqliteStatsOptions): SqliteStats {
  const { path, log } = opts;
  const open = opts.open ?? openReadOnly;
  const walSize = opts.walSize ?? walFileSize;
  const hasShm = opts.shmExists ?? shmExists;
  const coalesceMs = opts.coalesceMs ?? 0;
  const mono = opts.mono ?? (() => performance.now());
  let conn:
    | { db: ReadOnlyDb; ino: bigint; dev: bigint; stmts: Pick<StatementSync, "get">[] }
    | undefined;

  function close(): void {
    if (!conn) return;
    try {
      conn.db.close();
    } catch {
      // Closing a read-only connection loses nothing.
    }
    conn = undefined;
  }

  function fail(detail: string): SqliteFigures {
    close();
    log.condition("database", detail);
    return { ...ZERO, error: detail };
  }

  // Under a burst of requests one stat and one set of PRAGMA reads serve them all for
  // `coalesceMs`; a lone request always reads.
  const read = coalesce(() => readNow(), { windowMs: coalesceMs, mono });

  function readNow(): SqliteFigures {
    const probe = probeFile(path);
    if (!probe.ok) return fail(probe.failure.detail);
    const { dev, ino } = probe.identity;
    if (conn && (conn.ino !== ino || conn.dev !== dev)) {
      log.log("info", "database", `${path} was replaced: reopening`);
      close();
    }
    const wal = walSize(path);
    if (!conn) {
      const head = readFileHead(path, 100);
      if (!head.ok) return fail(head.failure.detail);
      if (head.bytes.length === 0) return fail(`${path} is empty (0 bytes)`);
      const h = parseSqliteHeader(head.bytes, Number(probe.identity.size));
      if (!h) return fail(`${path} is not a SQLite database`);
      if (h.wal && !hasShm(path)) {
        // The ingestor is not running: opening now would create -wal/-shm in the operator's
        // directory. The header has the figures, and with no -shm the WAL is checkpointed.
        log.condition("database", undefined);
        const { pageCount, pageSize, cacheSize } = h;
        return { walSizeMB: wal / 1048576, walSize: wal, pageCount, pageSize, cacheSize };
      }
    }
    try {
      if (!conn) {
        const db = open(path);
        conn = {
          db,
          dev,
          ino,
          stmts: ["page_count", "page_size", "cache_size"].map((p) => db.prepare(`PRAGMA ${p}`)),
        };
      }
      const [pageCount, pageSize, cacheSize] = conn.stmts.map((s) => {
        const row = s.get() as Record<string, unknown> | undefined;
        const v = row ? Object.values(row)[0] : undefined;
        return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0;
      }) as [number, number, number];
      log.condition("database", undefined);
      return { walSizeMB: wal / 1048576, walSize: wal, pageCount, pageSize, cacheSize };
    } catch (err) {
      // "attempt to write a readonly database" once the ingestor exited and -shm is gone,
      // "file is not a database", a busy lock: zeros and a reason; reopen next time.
      const f = failureFromError(path, err);
      return fail(f.kind === "io_error" ? `${path}: ${(err as Error)?.message ?? err}` : f.detail);
    }
  }

  return {
    read,
    close,
  };
}
