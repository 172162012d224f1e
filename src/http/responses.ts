/**
 * Response bodies of the contract's endpoints, as pure functions of plain data: what the
 * stats file holds, this process's I/O rates, the database figures, and the time. Key order
 * follows the Go original (struct field order; map keys sorted, as encoding/json does).
 *
 * @module
 */

import type { EventLoopFigures } from "../inputs/event_loop.ts";
import type { HistorySample, WriteRate } from "../judge/history.ts";
import { round1, round3 } from "../base/figures.ts";
import type { DiskFacts } from "../judge/disk_forecast.ts";
import type { IoRates } from "../inputs/io_sampler.ts";
import type { RequestFigures } from "./request_stats.ts";
import type { SqliteFigures } from "../inputs/sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "../inputs/stats_cache.ts";
import type {
  ProcIoSample,
  SourceLiveness,
  SourceStatus,
  StatsSnapshot,
  WriterStats,
} from "../inputs/stats_snapshot.ts";

/**
 * Returns a copy of `obj` with keys in sorted order, as Go's encoding/json writes maps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortedKeys } from "./responses.ts";
 * assert.deepEqual(Object.keys(sortedKeys({ b: 1, a: 2 })), ["a", "b"]);
 * ```
 */
export function sortedKeys<T>(obj: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k]!;
  return out;
}

/** Staleness fields added (additively) to every body built from the stats file. */
export interface Staleness {
  stale: boolean;
  ageSec?: number;
}

/** How fresh the stats file is, as a body needs it: the age in tenths of a second (-1: none). */
export interface Age {
  fresh: boolean;
  tenths: number;
}

function staleness(age: Age): Staleness {
  return age.tenths < 0 ? { stale: true } : { stale: !age.fresh, ageSec: age.tenths / 10 };
}

/** Additive: which of the file's maps or lists were cut to the service's limit. */
function truncation(snap: StatsSnapshot): { truncated?: string[] } {
  return snap.truncated.length === 0 ? {} : { truncated: snap.truncated };
}

/** Body of `GET /api/perf/io`. */
export type PerfIoBody = IoRates & { ingestor?: ProcIoSample };

/**
 * The `/api/perf/io` body: this process's rates, plus the ingestor's `procIO` only when the
 * stats file is `fresh` (its effective stamp parses and is recent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perfIoBody } from "./responses.ts";
 * const rates = { readBytesPerSec: 0, writeBytesPerSec: 0, cancelledWriteBytesPerSec: 0,
 *   syscallsRead: 0, syscallsWrite: 0, ioSource: "rusage" as const, sampledAt: "", windowSec: 0 };
 * const missing = { kind: "unavailable", version: 1, reason: "missing", detail: "" } as const;
 * assert.equal(perfIoBody(rates, missing, false).ingestor, undefined);
 * ```
 */
export function perfIoBody(rates: IoRates, state: StatsState, fresh: boolean): PerfIoBody {
  const body: PerfIoBody = { ...rates };
  if (fresh && state.kind === "ok" && state.snapshot.procIO) body.ingestor = state.snapshot.procIO;
  return body;
}

/** Body of `GET /api/perf/write-sources`. */
export interface WriteSourcesBody extends Staleness {
  sampleAt: string;
  truncated?: string[];
  sources: Record<string, number>;
  writer_perf?: Record<string, WriterStats>;
  error?: string;
}

/**
 * The `/api/perf/write-sources` body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSourcesBody } from "./responses.ts";
 * const missing = { kind: "unavailable", version: 1, reason: "missing", detail: "gone" } as const;
 * assert.deepEqual(writeSourcesBody(missing, { fresh: false, tenths: -1 }), {
 *   sampleAt: "",
 *   sources: {},
 *   stale: true,
 *   error: "gone",
 * });
 * ```
 */
export function writeSourcesBody(state: StatsState, age: Age): WriteSourcesBody {
  if (state.kind !== "ok") {
    return { sampleAt: "", sources: {}, stale: true, error: state.detail };
  }
  const snap = state.snapshot;
  return {
    sampleAt: snap.sampledAt ?? "",
    sources: snap.sources,
    writer_perf: sortedKeys(snap.writerPerf ?? {}),
    ...staleness(age),
    ...truncation(snap),
  };
}

/** Body of `GET /api/healthz`. */
export interface HealthzBody {
  ready: boolean;
  reason?: string;
  ingest_liveness?: Record<string, SourceLiveness>;
}

/**
 * The `/api/healthz` body: `ingest_liveness` only when the map is present and non-empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { healthzBody } from "./responses.ts";
 * assert.deepEqual(healthzBody({ ready: true }, {}), { ready: true });
 * ```
 */
export function healthzBody(
  readiness: { ready: true } | { ready: false; reason: string },
  liveness: Record<string, SourceLiveness> | undefined,
): HealthzBody {
  if (!readiness.ready) return { ready: false, reason: readiness.reason };
  const body: HealthzBody = { ready: true };
  if (liveness && Object.keys(liveness).length > 0) body.ingest_liveness = sortedKeys(liveness);
  return body;
}

/** Body of `GET /api/mqtt/status`. */
export interface MqttStatusBody extends Staleness {
  truncated?: string[];
  sources: SourceStatus[];
  sampleAt: string;
  watchdogLastTickUnix?: number;
  watchdogPanicCount?: number;
  error?: string;
}

/**
 * The `/api/mqtt/status` body: rows sorted by name (strings were masked when the file was
 * parsed), watchdog fields omitted when 0 or absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttStatusBody } from "./responses.ts";
 * const missing = { kind: "unavailable", version: 1, reason: "missing", detail: "gone" } as const;
 * assert.deepEqual(mqttStatusBody(missing, { fresh: false, tenths: -1 }).sources, []);
 * ```
 */
export function mqttStatusBody(state: StatsState, age: Age): MqttStatusBody {
  if (state.kind !== "ok") return { sources: [], sampleAt: "", stale: true, error: state.detail };
  const snap = state.snapshot;
  const body: Omit<MqttStatusBody, keyof Staleness> = {
    sources: [...(snap.sourceStatuses ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    ),
    sampleAt: snap.sampledAt ?? "",
  };
  if (snap.watchdogLastTickUnix) body.watchdogLastTickUnix = snap.watchdogLastTickUnix;
  if (snap.watchdogPanicCount) body.watchdogPanicCount = snap.watchdogPanicCount;
  return { ...body, ...staleness(age), ...truncation(snap) };
}

/** Body of `GET /api/perf/sqlite`. */
export type PerfSqliteBody = Omit<SqliteFigures, "error"> & {
  cacheHitRate: number;
  error?: string;
};

/**
 * The `/api/perf/sqlite` body in contract order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perfSqliteBody } from "./responses.ts";
 * const figures = { walSizeMB: 0, walSize: 0, pageCount: 2, pageSize: 4096, cacheSize: -2000 };
 * assert.deepEqual(Object.keys(perfSqliteBody(figures, 0)), [
 *   "walSizeMB", "walSize", "pageCount", "pageSize", "cacheSize", "cacheHitRate",
 * ]);
 * ```
 */
export function perfSqliteBody(figures: SqliteFigures, cacheHitRate: number): PerfSqliteBody {
  const { walSizeMB, walSize, pageCount, pageSize, cacheSize, error } = figures;
  const body: PerfSqliteBody = { walSizeMB, walSize, pageCount, pageSize, cacheSize, cacheHitRate };
  if (error !== undefined) body.error = error;
  return body;
}

/** The stats cache's figures in the `cache` block CoreScope's perf page shows. */
export function cacheBlock(c: StatsCacheCounters, state: StatsState) {
  const lookups = c.hits + c.misses;
  return {
    size: state.kind === "ok" ? 1 : 0,
    hits: c.hits,
    misses: c.misses,
    staleHits: 0,
    recomputes: c.parses,
    hitRate: lookups === 0 ? 0 : round1((100 * c.hits) / lookups),
  };
}

/** `3h 7m`, `12m`, `45s`, as CoreScope writes uptimes. */
function uptimeHuman(sec: number): string {
  const d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m` : `${sec}s`;
}

const MB = (bytes: number) => Math.round(bytes / 1048576);

/** What `/api/health` is built from. */
export interface HealthInputs {
  /** Seconds since this process started. */
  uptime: number;
  version: string;
  memory: Deno.MemoryUsage;
  eventLoop: EventLoopFigures;
  cache: StatsCacheCounters;
  state: StatsState;
  requests: RequestFigures;
  ready: boolean;
}

/**
 * The `/api/health` body in CoreScope's shape (its perf page reads it): this process's
 * uptime, memory in MB, event-loop lag, the stats cache, request statistics; the packet
 * store and websocket figures, which this service has none of, as zeros.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { healthBody } from "./responses.ts";
 * const body = healthBody({
 *   uptime: 3725, version: "0.1.0", ready: true,
 *   memory: { rss: 50 << 20, heapUsed: 0, heapTotal: 0, external: 0 },
 *   eventLoop: { currentLagMs: 0, maxLagMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 },
 *   cache: { hits: 0, misses: 0, opens: 0, parses: 0, versions: 0, deferred: 0 },
 *   state: { kind: "unavailable", version: 1, reason: "missing", detail: "" },
 *   requests: {
 *     uptime: 0, totalRequests: 0, avgMs: 0, endpoints: {}, slowQueries: [], since: "",
 *     slowThresholdMs: 100,
 *   },
 * });
 * assert.equal(body.uptimeHuman, "1h 2m");
 * assert.equal(body.memory.rss, 50);
 * ```
 */
export function healthBody(i: HealthInputs) {
  const { size: entries, ...cache } = cacheBlock(i.cache, i.state);
  const m = i.memory, p = i.requests;
  return {
    status: "ok",
    engine: "deno",
    version: i.version,
    commit: "",
    buildTime: "",
    uptime: i.uptime,
    uptimeHuman: uptimeHuman(i.uptime),
    memory: {
      rss: MB(m.rss),
      heapUsed: MB(m.heapUsed),
      heapTotal: MB(m.heapTotal),
      external: MB(m.external),
    },
    eventLoop: i.eventLoop,
    cache: { entries, ...cache },
    websocket: { clients: 0 },
    packetStore: { packets: 0, estimatedMB: 0, trackedMB: 0 },
    perf: {
      totalRequests: p.totalRequests,
      avgMs: p.avgMs,
      slowQueries: p.slowQueries.length,
      recentSlow: p.slowQueries.slice(-5),
    },
    ready: i.ready,
  };
}

/**
 * The `/api/perf` body in CoreScope's shape: the request statistics and the stats cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perfBody } from "./responses.ts";
 * const body = perfBody(
 *   {
 *     uptime: 0, totalRequests: 0, avgMs: 0, endpoints: {}, slowQueries: [], since: "",
 *     slowThresholdMs: 100,
 *   },
 *   { hits: 3, misses: 1, opens: 1, parses: 1, versions: 1, deferred: 0 },
 *   { kind: "unavailable", version: 1, reason: "missing", detail: "" },
 * );
 * assert.equal(body.cache.hitRate, 75);
 * ```
 */
export function perfBody(requests: RequestFigures, cache: StatsCacheCounters, state: StatsState) {
  return { ...requests, cache: cacheBlock(cache, state) };
}

/**
 * The `/api/perf/history` body: the samples, oldest first, and the write-source rates
 * derived from them.
 */
export function historyBody(samples: HistorySample[], writeSources: Record<string, WriteRate>) {
  return { intervalSec: 1, samples, writeSources };
}

/** The disk forecast in healthz's `ingest.diskSpace`. */
export interface DiskSpaceBody {
  freeBytes: number;
  sizeBytes: number;
  /** The database file plus its WAL. */
  databaseBytes: number;
  /** Seconds the forecast's observations span; it waits for a quarter of `windowSec`. */
  spanSec: number;
  /** `diskWindowSec`: the rates are taken over it. */
  windowSec: number;
  learning: boolean;
  /** The database's growth over the span, bytes a second. */
  growthBytesPerSec: number;
  /** The faster of that growth and the free space's decline: what the forecast uses. */
  consumptionBytesPerSec: number;
  /** Seconds until full at that rate; absent while learning or when nothing is consumed. */
  fullInSec?: number;
}

/**
 * The `diskSpace` object: whole bytes and seconds, rates to three decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskSpaceBody } from "./responses.ts";
 * const f = { freeBytes: 1e9, sizeBytes: 4e9, dbBytes: 5e8, spanSec: 3600, windowSec: 3600,
 *   learning: false,
 *   growthBytesPerSec: 10.12345, consumeBytesPerSec: 10.12345, fullInSec: 98_780_000.4 };
 * assert.equal(diskSpaceBody(f).fullInSec, 98_780_000);
 * assert.equal(diskSpaceBody({ ...f, learning: true }).fullInSec, undefined);
 * ```
 */
export function diskSpaceBody(d: DiskFacts): DiskSpaceBody {
  return {
    freeBytes: d.freeBytes,
    sizeBytes: d.sizeBytes,
    databaseBytes: d.dbBytes,
    spanSec: Math.round(d.spanSec),
    windowSec: d.windowSec,
    learning: d.learning,
    growthBytesPerSec: round3(d.growthBytesPerSec),
    consumptionBytesPerSec: round3(d.consumeBytesPerSec),
    ...(!d.learning && d.fullInSec !== undefined ? { fullInSec: Math.round(d.fullInSec) } : {}),
  };
}
