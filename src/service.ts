/**
 * Wires the data sources of one configuration into the {@linkcode Services} the app reads:
 * the stats cache, the liveness memo, the SQLite reader and the I/O sampler.
 *
 * @module
 */

import type { Readiness, Services } from "./app.ts";
import type { Config } from "./config.ts";
import {
  chooseIoReader,
  createIoSampler,
  type IoReader,
  procfsReader,
  rusageReader,
} from "./io_sampler.ts";
import { judgeFreshness } from "./freshness.ts";
import { createRing, type HistorySample } from "./history.ts";
import type { Logger } from "./log.ts";
import { createRequestStats } from "./request_stats.ts";
import { flattenSources } from "./responses.ts";
import { ingestVerdicts } from "./verdicts.ts";
import { createMemo } from "./memo.ts";
import { createSqliteStats } from "./sqlite_stats.ts";
import { createStatsCache, type StatsCache } from "./stats_cache.ts";

/**
 * How long one stat of the stats file, and one set of database figures, serve concurrent
 * requests (ms). The freshness this costs is documented in the README.
 */
export const COALESCE_MS = 5;

/** Samples kept for `GET /api/perf/history`: ten minutes at 1 Hz. */
export const HISTORY_SAMPLES = 600;

/** A running set of data sources. */
export interface Runtime {
  services: Services;
  stats: StatsCache;
  /** Marks the service as draining: healthz answers 503 from now on. */
  drain(reason: string): void;
  /** Stops the sampler and closes the database. */
  close(): void;
}

/** Optional overrides, for tests. */
export interface RuntimeOptions {
  now?: () => number;
  ioReaders?: IoReader[];
}

/**
 * Builds the runtime for `config` and starts the I/O sampler.
 *
 * @example
 * ```ts
 * import { createRuntime } from "./service.ts";
 * import { DEFAULTS } from "./config.ts";
 * import { silentLogger } from "./log.ts";
 * const rt = createRuntime({ ...DEFAULTS }, silentLogger);
 * console.log(rt.services.readiness()); // { ready: true }
 * rt.close();
 * ```
 */
export function createRuntime(config: Config, log: Logger, opts: RuntimeOptions = {}): Runtime {
  const now = opts.now ?? Date.now;
  const stats = createStatsCache({
    path: config.statsPath,
    maxBytes: config.maxStatsBytes,
    log,
    coalesceMs: COALESCE_MS,
  });
  const liveness = createMemo({
    ttlMs: config.livenessTtlMs,
    now,
    probe: stats.probeKey,
    load: () => {
      const s = stats.get();
      return s.kind === "ok" ? s.snapshot.sourceLiveness : undefined;
    },
  });
  const sqlite = createSqliteStats({ path: config.dbPath, log, coalesceMs: COALESCE_MS });
  const readers = opts.ioReaders ?? [procfsReader(config.procIoPath), rusageReader()];
  const sampler = createIoSampler({ reader: chooseIoReader(readers, log), log, now });
  sampler.start(config.ioSampleMs);
  let readiness: Readiness = { ready: true };
  const policy = { staleAfterMs: config.staleAfterMs, clockSkewMs: config.clockSkewMs };
  const thresholds = {
    receiptStaleAfterSec: config.receiptStaleAfterSec,
    writeStaleAfterSec: config.writeStaleAfterSec,
  };

  // Ten minutes of 1 Hz samples for the dashboard: a fixed-size ring, nothing grows.
  const history = createRing<HistorySample>(HISTORY_SAMPLES);
  function recordHistory(): void {
    const t = now();
    const io = sampler.rates();
    const state = stats.get();
    const sample: HistorySample = {
      t,
      readBytesPerSec: io.readBytesPerSec,
      writeBytesPerSec: io.writeBytesPerSec,
      walSize: sqlite.read().walSize,
    };
    if (state.kind === "ok") {
      const freshness = judgeFreshness(state.snapshot, t, policy);
      if (freshness.fresh) {
        sample.sources = flattenSources(state.snapshot);
        if (state.snapshot.procIO) {
          sample.ingestorReadBytesPerSec = state.snapshot.procIO.readBytesPerSec;
          sample.ingestorWriteBytesPerSec = state.snapshot.procIO.writeBytesPerSec;
        }
      }
      const v = ingestVerdicts(
        state,
        freshness,
        state.snapshot.sourceLiveness,
        t / 1000,
        thresholds,
      );
      sample.liveness = v.sources;
    }
    history.push(sample);
  }
  recordHistory();
  const historyTimer = setInterval(recordHistory, 1000);
  Deno.unrefTimer(historyTimer);

  const services: Services = {
    policy,
    thresholds,
    now,
    ioRates: sampler.rates,
    ioCounters: sampler.counters,
    stats: stats.get,
    statsHitRate: stats.hitRate,
    statsCounters: stats.counters,
    liveness: liveness.get,
    sqlite: sqlite.read,
    readiness: () => readiness,
    requests: createRequestStats({ slowMs: config.slowRequestMs, now }),
    history: history.toArray,
    apiKey: config.apiKey,
    log,
  };

  return {
    services,
    stats,
    drain(reason) {
      readiness = { ready: false, reason };
    },
    close() {
      clearInterval(historyTimer);
      sampler.stop();
      sqlite.close();
      stats.close();
    },
  };
}
