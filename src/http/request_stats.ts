/**
 * The service's own request statistics, in the shape CoreScope's `GET /api/perf` has:
 * per endpoint count, mean and max since start (or the last reset), p50 and p95 over the
 * last `window` requests, and the last slow requests. Endpoint names come from the route
 * table, never from the raw path, so memory stays bounded and nothing a client sends is
 * echoed (CoreScope's page puts these names into HTML).
 *
 * @module
 */

import { percentile, round1 } from "../base/figures.ts";
import { createRing, type Ring } from "../base/ring.ts";

/** Figures for one endpoint. */
export interface EndpointFigures {
  count: number;
  avgMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** One request slower than the threshold, as CoreScope lists it. */
export interface SlowQuery {
  path: string;
  ms: number;
  /** RFC 3339. */
  time: string;
  status: number;
}

/** The request part of `GET /api/perf`. */
export interface RequestFigures {
  /** Whole seconds since start or the last reset. */
  uptime: number;
  totalRequests: number;
  avgMs: number;
  /** By endpoint, largest total time (count × avgMs) first. */
  endpoints: Record<string, EndpointFigures>;
  /** The last slow requests, oldest first. */
  slowQueries: SlowQuery[];
  /** Additive: when counting started (RFC 3339). */
  since: string;
  /** Additive: the slow threshold. */
  slowThresholdMs: number;
}

/** The recorder. */
export interface RequestStats {
  /** Records one request to `endpoint` (a route path, or a fixed word for the rest). */
  record(endpoint: string, status: number, ms: number): void;
  figures(): RequestFigures;
  reset(): void;
}

/** Options of {@linkcode createRequestStats}. */
export interface RequestStatsOptions {
  slowMs: number;
  /** Wall clock, ms. */
  now?: () => number;
  /** Latencies kept per endpoint for the percentiles. */
  window?: number;
  /** Slow requests kept. */
  keepSlow?: number;
}

interface Endpoint {
  count: number;
  sum: number;
  max: number;
  recent: Ring<number>;
}

/**
 * Creates a recorder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRequestStats } from "./request_stats.ts";
 * const rs = createRequestStats({ slowMs: 100, now: () => 0 });
 * rs.record("/api/healthz", 200, 0.2);
 * rs.record("/api/healthz", 200, 150);
 * const f = rs.figures();
 * assert.equal(f.totalRequests, 2);
 * assert.equal(f.endpoints["/api/healthz"]?.maxMs, 150);
 * assert.deepEqual(f.slowQueries, [
 *   { path: "/api/healthz", ms: 150, time: "1970-01-01T00:00:00.000Z", status: 200 },
 * ]);
 * ```
 */
export function createRequestStats(opts: RequestStatsOptions): RequestStats {
  const now = opts.now ?? Date.now;
  const window = opts.window ?? 1024;
  let since = now();
  let total = 0, totalMs = 0;
  let endpoints = new Map<string, Endpoint>();
  const slow = createRing<SlowQuery>(opts.keepSlow ?? 20);

  return {
    record(endpoint, status, ms) {
      let e = endpoints.get(endpoint);
      if (!e) endpoints.set(endpoint, e = { count: 0, sum: 0, max: 0, recent: createRing(window) });
      e.count++;
      e.sum += ms;
      if (ms > e.max) e.max = ms;
      e.recent.push(ms);
      total++;
      totalMs += ms;
      if (ms >= opts.slowMs) {
        slow.push({ path: endpoint, ms: round1(ms), time: new Date(now()).toISOString(), status });
      }
    },
    figures() {
      const rows = [...endpoints].sort(([, a], [, b]) => b.sum - a.sum);
      const out: Record<string, EndpointFigures> = {};
      for (const [name, e] of rows) {
        const sorted = e.recent.toArray().sort((a, b) => a - b);
        out[name] = {
          count: e.count,
          avgMs: round1(e.sum / e.count),
          p50Ms: round1(percentile(sorted, 0.5)),
          p95Ms: round1(percentile(sorted, 0.95)),
          maxMs: round1(e.max),
        };
      }
      return {
        uptime: Math.max(0, Math.floor((now() - since) / 1000)),
        totalRequests: total,
        avgMs: total === 0 ? 0 : round1(totalMs / total),
        endpoints: out,
        slowQueries: slow.toArray(),
        since: new Date(since).toISOString(),
        slowThresholdMs: opts.slowMs,
      };
    },
    reset() {
      endpoints = new Map();
      slow.clear();
      total = 0;
      totalMs = 0;
      since = now();
    },
  };
}
