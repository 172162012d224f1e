/**
 * Wires the data sources of one configuration into the {@linkcode Services} the app reads:
 * the stats cache (which is also the liveness memo), the SQLite reader, the I/O sampler, the
 * 1 Hz history, the event-loop lag sampler and the request statistics.
 *
 * @module
 */

import type { Readiness, Services } from "./app.ts";
import { allowedHostsOf, type Config } from "./config.ts";
import { createLagSampler } from "./event_loop.ts";
import { type FreshnessPolicy, judgeFreshness } from "./freshness.ts";
import { createHistoryRecorder, type HistorySample } from "./history.ts";
import {
  createIoSampler,
  type IoReader,
  type IoSampler,
  procfsReader,
  rusageReader,
} from "./io_sampler.ts";
import type { Logger } from "./log.ts";
import { getOwn } from "./records.ts";
import { createRequestStats } from "./request_stats.ts";
import { createResponseBudget } from "./response_budget.ts";
import { createSqliteStats, type SqliteStats } from "./sqlite_stats.ts";
import { createStatsCache, stateVerdicts, type StatsCache } from "./stats_cache.ts";
import type { SourceStatusVerdict, VerdictThresholds } from "./verdicts.ts";

/**
 * How long one stat of the stats file, and one database reading, serve a burst of
 * concurrent requests (ms). The freshness this costs is documented in the README.
 */
export const COALESCE_MS = 5;

/**
 * A new stats file version is parsed at most once per this many ms. The ingestor writes one
 * a second; a writer that replaces the file as fast as it can gets four parses a second
 * (about 40 ms of work at the 256 KiB default), not the event loop.
 */
export const MIN_PARSE_INTERVAL_MS = 250;

/** Samples kept for `GET /api/perf/history`: ten minutes at 1 Hz. */
export const HISTORY_SAMPLES = 600;

/** A running set of data sources. */
export interface Runtime {
  services: Services;
  stats: StatsCache;
  /** Marks the service as draining: healthz answers 503 from now on. */
  drain(reason: string): void;
  /** Stops the timers. */
  close(): void;
}

/** Optional overrides, for tests. */
export interface RuntimeOptions {
  now?: () => number;
  ioReaders?: IoReader[];
  version?: string;
}

/**
 * Builds the runtime for `config` and starts its timers (all unref'd).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRuntime } from "./service.ts";
 * import { DEFAULTS } from "./config.ts";
 * import { silentLogger } from "./log.ts";
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
    minParseIntervalMs: MIN_PARSE_INTERVAL_MS,
  });
  const sqlite = createSqliteStats({ path: config.dbPath, log, coalesceMs: COALESCE_MS });
  const readers = opts.ioReaders ?? [procfsReader(config.procIoPath), rusageReader()];
  const sampler = createIoSampler({ readers, log, now });
  sampler.start(config.ioSampleMs);
  let readiness: Readiness = { ready: true };
  const policy = { staleAfterMs: config.staleAfterMs, clockSkewMs: config.clockSkewMs };
  const thresholds = {
    receiptStaleAfterSec: config.receiptStaleAfterSec,
    writeStaleAfterSec: config.writeStaleAfterSec,
  };
  const history = createHistoryRecorder({
    now,
    sample: historySample({ sampler, stats, sqlite, policy, thresholds, log }),
  }, { capacity: HISTORY_SAMPLES, intervalMs: 1000 });
  const lag = createLagSampler();

  const services: Services = {
    policy,
    thresholds,
    now,
    ioRates: sampler.rates,
    ioCounters: sampler.counters,
    stats: stats.get,
    statsCounters: stats.counters,
    sqlite: sqlite.read,
    readiness: () => readiness,
    requests: createRequestStats({ slowMs: config.slowRequestMs, now }),
    history: history.samples,
    eventLoop: lag.figures,
    memory: () => Deno.memoryUsage(),
    startedAt,
    version: opts.version ?? "0.0.0",
    apiKey: config.apiKey,
    allowedHosts: allowedHostsOf(config),
    budget: createResponseBudget(),
    log,
  };

  return {
    services,
    stats,
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

/** What one 1 Hz history sample reads from. */
interface SampleSources {
  sampler: IoSampler;
  stats: StatsCache;
  sqlite: SqliteStats;
  policy: FreshnessPolicy;
  thresholds: VerdictThresholds;
  log: Logger;
}

/**
 * Takes one history sample at `t`: this process's I/O rates, the WAL size, and, while the
 * stats file is fresh, the ingestor's counters (its version's object, shared) and rates; the
 * per-source verdicts, whose changes it also logs.
 */
function historySample(src: SampleSources): (t: number) => Omit<HistorySample, "t"> {
  const verdictLog = verdictChanges(src.log);
  return (t) => {
    const io = src.sampler.rates(), state = src.stats.get();
    const snap = state.kind === "ok" ? state.snapshot : undefined;
    const f = snap ? judgeFreshness(snap, t, src.policy) : { fresh: false };
    const v = stateVerdicts(state, f, Math.floor(t / 1000), src.thresholds);
    verdictLog(v.sources);
    return {
      readBytesPerSec: io.readBytesPerSec,
      writeBytesPerSec: io.writeBytesPerSec,
      walSize: src.sqlite.read().walSize,
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

/**
 * Logs each source's verdict when it changes (`local: ok → write_stalled`), once per change;
 * a source seen for the first time is logged only when it is not `ok`.
 */
export function verdictChanges(log: Logger): (now: Record<string, SourceStatusVerdict>) => void {
  let prev: Record<string, SourceStatusVerdict> = {};
  return (now) => {
    for (const [name, v] of Object.entries(now)) {
      const was = getOwn(prev, name);
      if (was === v || (was === undefined && v === "ok")) continue;
      const level = v === "ok" || v === "never" ? "info" : "warn";
      log.log(level, "liveness", `${name}: ${was ?? "new"} → ${v}`);
    }
    prev = now;
  };
}
