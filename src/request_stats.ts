/**
 * The service's own request statistics for `GET /api/perf`: per route count, mean, p50, p95
 * and max latency over a bounded window, and the last slow requests. Memory is bounded by
 * the number of routes (labels come from the route table, never from the raw path).
 *
 * @module
 */

/** Figures for one route. */
export interface RouteFigures {
  count: number;
  avgMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** One request slower than the threshold. */
export interface SlowRequest {
  at: string;
  route: string;
  status: number;
  ms: number;
}

/** What `GET /api/perf` shows. */
export interface RequestStatsSnapshot {
  since: string;
  slowThresholdMs: number;
  routes: Record<string, RouteFigures>;
  slow: SlowRequest[];
}

/** The recorder. */
export interface RequestStats {
  record(route: string, status: number, ms: number): void;
  snapshot(): RequestStatsSnapshot;
  reset(): void;
}

/** Options of {@linkcode createRequestStats}. */
export interface RequestStatsOptions {
  slowMs: number;
  now?: () => number;
  /** Latencies kept per route for the percentiles. */
  window?: number;
  /** Slow requests kept. */
  keepSlow?: number;
}

/**
 * Nearest-rank percentile of an ascending array; 0 when empty.
 *
 * @example
 * ```ts
 * import { percentile } from "./request_stats.ts";
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Creates a recorder.
 *
 * @example
 * ```ts
 * import { createRequestStats } from "./request_stats.ts";
 * const rs = createRequestStats({ slowMs: 100, now: () => 0 });
 * rs.record("GET /api/healthz", 200, 0.2);
 * rs.snapshot().routes["GET /api/healthz"]?.count; // 1
 * ```
 */
export function createRequestStats(opts: RequestStatsOptions): RequestStats {
  const now = opts.now ?? Date.now;
  const window = opts.window ?? 1024;
  const keepSlow = opts.keepSlow ?? 20;
  let since = now();
  let routes = new Map<
    string,
    { count: number; sum: number; max: number; ring: number[]; at: number }
  >();
  let slow: SlowRequest[] = [];

  return {
    record(route, status, ms) {
      let r = routes.get(route);
      if (!r) routes.set(route, r = { count: 0, sum: 0, max: 0, ring: [], at: 0 });
      r.count++;
      r.sum += ms;
      if (ms > r.max) r.max = ms;
      if (r.ring.length < window) r.ring.push(ms);
      else r.ring[r.at] = ms;
      r.at = (r.at + 1) % window;
      if (ms >= opts.slowMs) {
        slow.push({ at: new Date(now()).toISOString(), route, status, ms: round(ms) });
        if (slow.length > keepSlow) slow.shift();
      }
    },
    snapshot() {
      const out: Record<string, RouteFigures> = {};
      for (const name of [...routes.keys()].sort()) {
        const r = routes.get(name)!;
        const sorted = [...r.ring].sort((a, b) => a - b);
        out[name] = {
          count: r.count,
          avgMs: round(r.sum / r.count),
          p50Ms: round(percentile(sorted, 0.5)),
          p95Ms: round(percentile(sorted, 0.95)),
          maxMs: round(r.max),
        };
      }
      return {
        since: new Date(since).toISOString(),
        slowThresholdMs: opts.slowMs,
        routes: out,
        slow: [...slow],
      };
    },
    reset() {
      routes = new Map();
      slow = [];
      since = now();
    },
  };
}
