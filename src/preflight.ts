/**
 * `main.ts check`: a preflight that names every problem an operator would otherwise meet one
 * log line at a time (database missing, not SQLite or unreadable; stats path missing or not a
 * regular file; I/O counters unreadable), for a first install and for `ExecStartPre=`. It
 * reads with the same functions the service uses, under the same grants.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { procfsReader } from "./io_sampler.ts";
import { silentLogger } from "./log.ts";
import { permissionFlags } from "./permissions.ts";
import { createSqliteStats } from "./sqlite_stats.ts";
import { createStatsCache } from "./stats_cache.ts";

/** One finding: `ok` or a problem, with what was checked. */
export interface Finding {
  ok: boolean;
  what: string;
  detail: string;
}

/**
 * Checks `config` and returns one finding per part; the CLI exits 1 when any is not ok.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preflight } from "./preflight.ts";
 * import { DEFAULTS } from "./config.ts";
 * const f = preflight({ ...DEFAULTS, dbPath: "/nonexistent.db", statsPath: "/nonexistent.json" });
 * assert.deepEqual(f.filter((x) => !x.ok).map((x) => x.what), ["database", "stats file"]);
 * ```
 */
export function preflight(config: Config, inputs: { configPath?: string } = {}): Finding[] {
  const out: Finding[] = [];
  const db = createSqliteStats({ path: config.dbPath, log: silentLogger }).read();
  out.push(
    db.error === undefined
      ? {
        ok: true,
        what: "database",
        detail: `${config.dbPath}: ${db.pageCount} pages of ${db.pageSize} bytes`,
      }
      : { ok: false, what: "database", detail: db.error },
  );
  const stats = createStatsCache({
    path: config.statsPath,
    maxBytes: config.maxStatsBytes,
    log: silentLogger,
  });
  const s = stats.get();
  stats.close();
  out.push(
    s.kind === "ok"
      ? {
        ok: true,
        what: "stats file",
        detail: `${config.statsPath}: sampledAt ${s.snapshot.sampledAt ?? "(none)"}`,
      }
      : { ok: false, what: "stats file", detail: s.detail },
  );
  const io = procfsReader(config.procIoPath).read();
  // Not fatal: the service falls back to getrusage, but an operator should know.
  out.push(
    io.ok
      ? {
        ok: true,
        what: "I/O counters",
        detail: `${config.procIoPath} is readable (ioSource procfs)`,
      }
      : {
        ok: true,
        what: "I/O counters",
        detail: `${io.detail}: the service will use getrusage (ioSource rusage)`,
      },
  );
  try {
    out.push({ ok: true, what: "grants", detail: permissionFlags(config, inputs).join(" ") });
  } catch (err) {
    out.push({
      ok: false,
      what: "grants",
      detail: err instanceof Error ? err.message : String(err),
    });
  }
  return out;
}
