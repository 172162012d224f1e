/**
 * Wires the data sources of one configuration into the {@linkcode Services} the app reads:
 * the stats cache (which is also the liveness memo), the SQLite reader, the I/O sampler, the
 * 1 Hz history and ingest watch, the event-loop lag sampler and the request statistics.
 *
 * @module
 */

import type { Readiness, Services } from "../http/services.ts";
import { allowedHostsOf, type Config } from "./config.ts";
import { createLagSampler, type LagSampler } from "../inputs/event_loop.ts";
import { freshnessOf } from "../judge/freshness.ts";
import {
  createHistoryRecorder,
  type HistoryRecorder,
  type HistorySample,
} from "../judge/history.ts";
import {
  createIoSampler,
  type IoReader,
  type IoSampler,
  procfsReader,
  rusageReader,
} from "../inputs/io_sampler.ts";
import type { Logger } from "../base/log.ts";
import { procSelfDir } from "../inputs/proc_io.ts";
import { readProcessFigures } from "../inputs/process_figures.ts";
import { getOwn } from "../base/records.ts";
import { createRequestStats } from "../http/request_stats.ts";
import { createResponseBudget } from "../http/response_budget.ts";
import { createSqliteStats, type SqliteStats } from "../inputs/sqlite_stats.ts";
import { createIngestWatch, type IngestWatch } from "../judge/ingest_watch.ts";
import { createStatsCache, type StatsCache } from "../inputs/stats_cache.ts";
import { type DiskReading, readDiskSpace } from "../inputs/disk_space.ts";
import { type IngestVerdicts, judgeIngest, type JudgePolicy } from "../judge/verdicts.ts";

/**
 * How long one stat of the stats file, and one database reading, serve a burst of
 * concurrent requests (ms). The freshness this costs is documented in the README.
 */
export const COALESCE_MS = 5;

/**
 * Bytes of new stats file versions parsed per second, and at once. The ingestor writes a few
 * KB a second, parsed the moment each version is seen; a writer that replaces the file with
 * versions at the 256 KiB default as fast as it can gets four parses a second (about 40 ms of
 * work, 10 ms each), not the event loop. The burst holds a whole file at the 1 MiB maximum.
 */
export const PARSE_BUDGET = { bytesPerSec: 1024 * 1024, burstBytes: 1024 * 1024 } as const;

/** Samples kept for `GET /api/perf/history`: ten minutes at 1 Hz. */
export const HISTORY_SAMPLES = 600;

/** A running set of data sources. */
export interface Runtime {
  services: Services;
  /** The stats file's cached reader (`services.stats` is its `get`). */
  statsCache: StatsCache;
  /** Takes one history sample (and ingest observation) now. */
  sample(): void;
  /** Marks the service as draining: healthz answers 503 from now on. */
  drain(reason: string): void;
  /** Stops the timers. */
  close(): void;
}

/** Optional overrides, for tests. */
export interface RuntimeOptions {
  now?: () => number;
  /** How often the history (and the ingest watch) samples, ms; 0: only when told. */
  historyIntervalMs?: number;
  /** Monotonic clock (ms) of the stats cache's coalescing and parse interval. */
  mono?: () => number;
  ioReaders?: IoReader[];
  /** The database's filesystem (statfs of the database file). */
  readDisk?: () => DiskReading;
  version?: string;
}

/**
 * Builds the runtime for `config` and starts its timers (all unref'd).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRuntime } from "./runtime.ts";
 * import { DEFAULTS } from "./config.ts";
 * import { silentLogger } from "../base/log.ts";
 * const rt = createRuntime({ ...DEFAULTS, statsPath: "/nonexistent.json" }, silentLogger);
 * assert.deepEqual(rt.services.readiness(), { ready: true });
 * assert.equal(rt.services.stats().kind, "unavailable");
 * rt.close();
 * ```
 */
export function createRuntime(config: Config, log: Logger, opts: RuntimeOptions = {}): Runtime {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const stats = createStatsCache({
    path: config.statsPath,
    maxBytes: config.maxStatsBytes,
    log,
    coalesceMs: COALESCE_MS,
    parseBudget: PARSE_BUDGET,
    ...(opts.mono ? { mono: opts.mono } : {}),
  });
  const sqlite = createSqliteStats({ path: config.dbPath, log, coalesceMs: COALESCE_MS });
  // An empty procIoPath chooses getrusage (a container, where /proc cannot be bound).
  const readers = opts.ioReaders ??
    (config.procIoPath === ""
      ? [rusageReader()]
      : [procfsReader(config.procIoPath), rusageReader()]);
  const sampler = createIoSampler({ readers, log, now });
  let readiness: Readiness = { ready: true };
  const policy = policyOf(config);
  const watch = ingestWatch(config, log);
  const history = createHistoryRecorder({
    now,
    sample: historySample({
      sampler,
      stats,
      sqlite,
      policy,
      watch,
      log,
      readDisk: opts.readDisk ?? (() => readDiskSpace(config.dbPath)),
    }),
  }, { capacity: HISTORY_SAMPLES, intervalMs: 0 });
  const lag = startTicker(opts.historyIntervalMs ?? 1000, config.ioSampleMs, sampler, history);
  const services: Services = {
    policy,
    facts: watch.facts,
    now,
    ioRates: sampler.rates,
    ioWanted: readers[0]?.kind ?? "none",
    ioCounters: sampler.counters,
    stats: stats.get,
    statsCounters: stats.counters,
    sqlite: sqlite.read,
    readiness: () => readiness,
    requests: createRequestStats({ slowMs: config.slowRequestMs, now }),
    history: history.samples,
    eventLoop: lag.figures,
    memory: () => Deno.memoryUsage(),
    process: () => readProcessFigures(startedAt, procSelfDir(config.procIoPath)),
    startedAt,
    version: opts.version ?? "0.0.0",
    apiKey: config.apiKey,
    allowedHosts: allowedHostsOf(config),
    budget: createResponseBudget(),
    log,
  };

  return {
    services,
    statsCache: stats,
    sample: history.record,
    drain(reason) {
      readiness = { ready: false, reason };
    },
    close() {
      history.stop();
      lag.stop();
      sampler.stop();
      sqlite.close();
      stats.close();
    },
  };
}

/**
 * The one timer of the 1 Hz work, every `tickMs` (0: none): its own lateness, this process's
 * I/O (when sampled at the same interval; another interval gets its own timer), then the
 * history sample (the ingest watch and the verdicts). One wake-up a second, not three.
 */
function startTicker(
  tickMs: number,
  ioSampleMs: number,
  sampler: IoSampler,
  history: HistoryRecorder,
): LagSampler {
  const ioOnTick = tickMs > 0 && ioSampleMs === tickMs;
  if (ioOnTick) sampler.sample();
  else sampler.start(ioSampleMs);
  return createLagSampler({
    intervalMs: tickMs,
    onTick() {
      if (ioOnTick) sampler.sample();
      history.record();
    },
  });
}

/** The ingest watch of `config`, logging each restart of the ingestor it sees. */
function ingestWatch(config: Config, log: Logger): IngestWatch {
  return createIngestWatch({
    windowSec: config.writeWindowSec,
    diskWindowSec: config.diskWindowSec,
    onRestart: (before, after) =>
      log.log(
        "warn",
        "ingestor",
        `the ingestor started again: its counters went back (rows written ${before.writes} → ${after.writes}, write errors ${before.errors} → ${after.errors})`,
      ),
  });
}

/**
 * The judge's policy from a configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { policyOf } from "./runtime.ts";
 * import { DEFAULTS } from "./config.ts";
 * assert.equal(policyOf(DEFAULTS).writeWindowSec, DEFAULTS.writeWindowSec);
 * ```
 */
export function policyOf(config: Config): JudgePolicy {
  return {
    staleAfterMs: config.staleAfterMs,
    clockSkewMs: config.clockSkewMs,
    receiptStaleAfterSec: config.receiptStaleAfterSec,
    writeStaleAfterSec: config.writeStaleAfterSec,
    writeWindowSec: config.writeWindowSec,
    walResetStaleAfterSec: config.walResetStaleAfterSec,
    writerLockMs: config.writerLockMs,
    writerContentionCount: config.writerContentionCount,
    diskLowHours: config.diskLowHours,
    diskLowMiB: config.diskLowMiB,
    diskWindowSec: config.diskWindowSec,
  };
}

/** What one 1 Hz history sample reads from. */
interface SampleSources {
  sampler: IoSampler;
  stats: StatsCache;
  sqlite: SqliteStats;
  policy: JudgePolicy;
  watch: IngestWatch;
  log: Logger;
  readDisk: () => DiskReading;
}

/**
 * Takes one history sample at `t`: this process's I/O rates, the WAL size, and, while the
 * stats file is fresh, the ingestor's counters (its version's object, shared) and rates; the
 * ingest watch's observation; the per-source verdicts. Every change of a verdict is logged.
 */
function historySample(src: SampleSources): (t: number) => Omit<HistorySample, "t"> {
  const changes = verdictChanges(src.log);
  return (t) => {
    const io = src.sampler.rates(), state = src.stats.get(), db = src.sqlite.glance();
    const snap = state.kind === "ok" ? state.snapshot : undefined;
    const f = freshnessOf(state, t, src.policy);
    const disk = src.readDisk();
    src.log.condition("disk", disk.ok ? undefined : disk.detail);
    const facts = src.watch.observe(t, f.fresh ? snap : undefined, db, disk);
    const v = judgeIngest(state, t, src.policy, facts);
    changes(verdictKeys(v));
    return {
      readBytesPerSec: io.readBytesPerSec,
      writeBytesPerSec: io.writeBytesPerSec,
      walSize: db.walSize,
      ...(snap && f.fresh ? { sources: snap.sources } : {}),
      ...(snap?.procIO && f.fresh
        ? {
          ingestorReadBytesPerSec: snap.procIO.readBytesPerSec,
          ingestorWriteBytesPerSec: snap.procIO.writeBytesPerSec,
        }
        : {}),
      ...(snap ? { liveness: v.sources } : {}),
    };
  };
}

/** Every verdict under one flat name each: `stats file`, `writes`, …, `source local`. */
function verdictKeys(v: IngestVerdicts): Record<string, string> {
  const out: Record<string, string> = {
    "stats file": v.statsFile,
    writes: v.writes,
    database: v.database,
    clock: v.clock,
    disk: v.disk,
    "writer lock": v.writerLock,
  };
  for (const [name, verdict] of Object.entries(v.sources)) out[`source ${name}`] = verdict;
  return out;
}

const GOOD = new Set(["ok", "never", "fresh", "unknown"]);

/**
 * Logs each verdict when it changes to or from a bad one (`source local: ok →
 * write_failing`), once per change; `unknown → ok` and a good first sight are not news.
 */
export function verdictChanges(log: Logger): (now: Record<string, string>) => void {
  let prev: Record<string, string> = {};
  return (now) => {
    for (const [name, v] of Object.entries(now)) {
      const was = getOwn(prev, name);
      if (was === v || (GOOD.has(was ?? "ok") && GOOD.has(v))) continue;
      log.log(GOOD.has(v) ? "info" : "warn", "verdict", `${name}: ${was ?? "new"} → ${v}`);
    }
    prev = now;
  };
}
