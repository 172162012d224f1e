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
import type { Logger } from "./log.ts";
import { createMemo } from "./memo.ts";
import { createSqliteStats } from "./sqlite_stats.ts";
import { createStatsCache, type StatsCache } from "./stats_cache.ts";

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
  const stats = createStatsCache({ path: config.statsPath, maxBytes: config.maxStatsBytes, log });
  const liveness = createMemo({
    ttlMs: config.livenessTtlMs,
    now,
    probe: stats.probeKey,
    load: () => {
      const s = stats.get();
      return s.kind === "ok" ? s.snapshot.sourceLiveness : undefined;
    },
  });
  const sqlite = createSqliteStats({ path: config.dbPath, log });
  const readers = opts.ioReaders ?? [procfsReader(config.procIoPath), rusageReader()];
  const sampler = createIoSampler({ reader: chooseIoReader(readers, log), log, now });
  sampler.start(config.ioSampleMs);
  let readiness: Readiness = { ready: true };

  const services: Services = {
    policy: { staleAfterMs: config.staleAfterMs, clockSkewMs: config.clockSkewMs },
    now,
    ioRates: sampler.rates,
    stats: stats.get,
    statsHitRate: stats.hitRate,
    liveness: liveness.get,
    sqlite: sqlite.read,
    readiness: () => readiness,
    log,
  };

  return {
    services,
    stats,
    drain(reason) {
      readiness = { ready: false, reason };
    },
    close() {
      sampler.stop();
      sqlite.close();
    },
  };
}
