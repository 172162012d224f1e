/**
 * The HTTP surface on Hono: typed handlers over injected services, JSON everywhere (but
 * `/metrics` and the dashboard), `Cache-Control: no-store` on every response, 404 and 405 as
 * JSON, and the service's own request timing.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, Next } from "hono";
import { checkApiKey } from "./auth.ts";
import { DASHBOARD_HTML } from "./dashboard.ts";
import { type Freshness, type FreshnessPolicy, judgeFreshness } from "./freshness.ts";
import { type HistorySample, writeRates } from "./history.ts";
import type { IoRates } from "./io_sampler.ts";
import type { Logger } from "./log.ts";
import { METRICS_CONTENT_TYPE, renderLookups, renderMetrics } from "./metrics.ts";
import type { IoCounters } from "./proc_io.ts";
import type { RequestStats } from "./request_stats.ts";
import {
  healthzBody,
  mqttStatusBody,
  perfIoBody,
  perfSqliteBody,
  writeSourcesBody,
} from "./responses.ts";
import type { SqliteFigures } from "./sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "./stats_cache.ts";
import type { SourceLiveness } from "./stats_snapshot.ts";
import { type IngestVerdicts, ingestVerdicts, type VerdictThresholds } from "./verdicts.ts";

/** Whether the service can answer; `reason` says why not. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** What the handlers read from; each is a plain function, so tests inject fakes. */
export interface Services {
  policy: FreshnessPolicy;
  thresholds: VerdictThresholds;
  /** Wall clock, ms. */
  now: () => number;
  ioRates: () => IoRates;
  ioCounters: () => IoCounters;
  stats: () => StatsState;
  statsHitRate: () => number;
  statsCounters: () => StatsCacheCounters;
  liveness: () => Record<string, SourceLiveness> | undefined;
  sqlite: () => SqliteFigures;
  readiness: () => Readiness;
  requests: RequestStats;
  history: () => HistorySample[];
  /** Key for POST /api/perf/reset; "" disables it. */
  apiKey: string;
  log: Logger;
}

const NO_STORE = { "Cache-Control": "no-store" };
const JSON_HEADERS = { "Content-Type": "application/json", ...NO_STORE };

/**
 * Serializes `body` as a JSON response with the contract's headers.
 *
 * @example
 * ```ts
 * import { jsonResponse } from "./app.ts";
 * const res = jsonResponse({ ok: true });
 * console.log(res.headers.get("cache-control")); // "no-store"
 * ```
 */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...JSON_HEADERS, ...headers },
  });
}

/** A JSON response from an already serialized and encoded body. */
function jsonBytes(bytes: Uint8Array<ArrayBuffer>, status = 200): Response {
  return new Response(bytes, { status, headers: JSON_HEADERS });
}

const encoder = new TextEncoder();

/**
 * Keeps the last serialized body and the key of its inputs: a body whose inputs have not
 * changed (the same stats version, I/O sample, freshness) is not built or serialized again.
 */
function bodyCache(): (key: string, build: () => unknown) => Uint8Array<ArrayBuffer> {
  let lastKey: string | undefined;
  let bytes = new Uint8Array();
  return (key, build) => {
    if (key !== lastKey) {
      bytes = encoder.encode(JSON.stringify(build()));
      lastKey = key;
    }
    return bytes;
  };
}

/** A small stable id per object, for cache keys over objects that are replaced, not edited. */
const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(o: object | undefined): number {
  if (!o) return -1;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, id = ++nextId);
  return id;
}

const READ = ["GET", "HEAD"];
const PROBE = ["GET", "HEAD", "OPTIONS"];

/** Routes and the methods each answers (HEAD goes with GET). */
export const ROUTES: Record<string, string[]> = {
  "/": READ,
  "/metrics": READ,
  "/livez": PROBE,
  "/readyz": PROBE,
  "/api/healthz": PROBE,
  "/api/perf": READ,
  "/api/perf/reset": ["POST"],
  "/api/perf/history": READ,
  "/api/perf/io": READ,
  "/api/perf/sqlite": READ,
  "/api/perf/write-sources": READ,
  "/api/mqtt/status": READ,
};

/** Request headers larger than this (names and values) are refused with 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** No endpoint reads a body: a declared body larger than this is refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

function headerBytes(headers: Headers): number {
  let n = 0;
  for (const [k, v] of headers) n += k.length + v.length + 4;
  return n;
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The request-stats key: from the route table and known methods only, so labels stay bounded. */
function routeKey(method: string, path: string): string {
  const m = KNOWN_METHODS.has(method) ? method : "OTHER";
  const known = ROUTE_KEYS.get(m)?.get(path);
  return known ?? `${m} ${path in ROUTES ? path : "unmatched"}`;
}

// Keys of the known method and route pairs, built once instead of on every request.
const ROUTE_KEYS = new Map(
  [...KNOWN_METHODS].map((m) => [m, new Map(Object.keys(ROUTES).map((p) => [p, `${m} ${p}`]))]),
);

/**
 * Builds the app over `svc`.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * import { createRuntime } from "./service.ts";
 * const res = await createApp(createRuntime(config, log).services).request("/api/healthz");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(svc: Services): Hono {
  const app = new Hono();

  // One middleware, not two: each async layer costs a little on every request.
  app.use(async (c: Context, next: Next) => {
    const t0 = performance.now();
    // Bounds before any handler runs. (Deno itself answers 400 to headers past its own limit.)
    const headers = c.req.raw.headers;
    const length = Number(headers.get("content-length") ?? 0);
    if (headerBytes(headers) > MAX_HEADER_BYTES) {
      c.res = jsonResponse({ error: `request headers over ${MAX_HEADER_BYTES} bytes` }, 431);
    } else if (!(length <= MAX_BODY_BYTES)) {
      c.res = jsonResponse({ error: `request body over ${MAX_BODY_BYTES} bytes` }, 413);
    } else {
      await next();
    }
    svc.requests.record(routeKey(c.req.method, c.req.path), c.res.status, performance.now() - t0);
  });

  const freshnessOf = (state: StatsState, now: number): Freshness =>
    state.kind === "ok" ? judgeFreshness(state.snapshot, now, svc.policy) : { fresh: false };
  /** Everything a stats-file body depends on: the version, and its age to a tenth of a second. */
  const statsKey = (state: StatsState, f: Freshness) =>
    `${state.version}|${f.fresh}|${f.ageSec === undefined ? "" : Math.round(f.ageSec * 10)}`;

  const verdicts = (state: StatsState, f: Freshness, now: number): IngestVerdicts =>
    ingestVerdicts(state, f, svc.liveness(), Math.floor(now / 1000), svc.thresholds);

  const ioBody = bodyCache();
  app.get("/api/perf/io", () => {
    const rates = svc.ioRates(), state = svc.stats(), now = svc.now();
    const key = `${idOf(rates)}|${state.version}|${freshnessOf(state, now).fresh}`;
    return jsonBytes(ioBody(key, () => perfIoBody(rates, state, now, svc.policy)));
  });

  app.get("/api/perf/sqlite", () => jsonResponse(perfSqliteBody(svc.sqlite(), svc.statsHitRate())));

  const sourcesBody = bodyCache();
  app.get("/api/perf/write-sources", () => {
    const state = svc.stats(), now = svc.now();
    const key = statsKey(state, freshnessOf(state, now));
    return jsonBytes(sourcesBody(key, () => writeSourcesBody(state, now, svc.policy)));
  });

  const healthBody = bodyCache();
  app.get("/api/healthz", () => {
    const readiness = svc.readiness();
    if (!readiness.ready) return jsonResponse(healthzBody(readiness, undefined), 503);
    const state = svc.stats(), now = svc.now(), liveness = svc.liveness();
    const f = freshnessOf(state, now);
    // Verdicts move with whole seconds; the rest with the stats version and the memo's map.
    const key = `${state.version}|${f.fresh}|${Math.floor(now / 1000)}|${idOf(liveness)}`;
    return jsonBytes(healthBody(key, () => ({
      ...healthzBody(readiness, liveness),
      // Additive: the ingestor's trouble is reported, not turned into a 503.
      ingest: verdicts(state, f, now),
    })));
  });

  app.get("/livez", () => jsonResponse({ alive: true }));

  app.get("/readyz", () => {
    const r = svc.readiness();
    return jsonResponse(r, r.ready ? 200 : 503);
  });

  for (const path of ["/api/healthz", "/livez", "/readyz"]) {
    app.options(
      path,
      () => new Response(null, { status: 204, headers: { Allow: PROBE.join(", "), ...NO_STORE } }),
    );
  }

  app.get(
    "/api/mqtt/status",
    () => jsonResponse(mqttStatusBody(svc.stats(), svc.now(), svc.policy)),
  );

  let metricsKey: string | undefined;
  let metricsText = "";
  app.get("/metrics", () => {
    const state = svc.stats(), now = svc.now();
    const f = freshnessOf(state, now);
    // Age to a tenth of a second, so the text can be reused until an input changes.
    const freshness = f.ageSec === undefined ? f : { ...f, ageSec: Math.round(f.ageSec * 10) / 10 };
    const ioCounters = svc.ioCounters(), sqlite = svc.sqlite(), cache = svc.statsCounters();
    const ioSource = svc.ioRates().ioSource, liveness = svc.liveness();
    const key = `${idOf(ioCounters)}|${ioSource}|${statsKey(state, f)}|${idOf(sqlite)}|` +
      `${cache.opens}|${cache.parses}|${cache.versions}|${Math.floor(now / 1000)}|${
        idOf(liveness)
      }`;
    if (key !== metricsKey) {
      metricsText = renderMetrics({
        ioSource,
        ioCounters,
        state,
        freshness,
        sqlite,
        cache,
        verdicts: verdicts(state, f, now),
      });
      metricsKey = key;
    }
    return new Response(metricsText + renderLookups(cache), {
      headers: { "Content-Type": METRICS_CONTENT_TYPE, ...NO_STORE },
    });
  });

  app.get("/api/perf", () => jsonResponse(svc.requests.snapshot()));

  app.post("/api/perf/reset", (c: Context) => {
    const auth = checkApiKey(c.req.raw.headers, svc.apiKey);
    if (auth === "disabled") {
      return jsonResponse({ error: "reset is disabled: no apiKey is configured" }, 403);
    }
    if (auth === "missing") {
      return jsonResponse({ error: "API key required" }, 401, {
        "WWW-Authenticate": 'Bearer realm="corescope-perf"',
      });
    }
    if (auth === "wrong") {
      svc.log.log("warn", "auth", "POST /api/perf/reset with a wrong API key");
      return jsonResponse({ error: "wrong API key" }, 403);
    }
    svc.requests.reset();
    svc.log.log("info", "perf", "request statistics reset");
    return jsonResponse({ reset: true });
  });

  app.get("/api/perf/history", () => {
    const samples = svc.history();
    return jsonResponse({ intervalSec: 1, samples, writeSources: writeRates(samples) });
  });

  app.get("/", () =>
    new Response(DASHBOARD_HTML, {
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        "X-Content-Type-Options": "nosniff",
        ...NO_STORE,
      },
    }));

  for (const [path, methods] of Object.entries(ROUTES)) {
    app.all(
      path,
      (c: Context) =>
        jsonResponse({ error: `method ${c.req.method} not allowed` }, 405, {
          Allow: methods.join(", "),
        }),
    );
  }

  app.notFound((c: Context) => jsonResponse({ error: `no route for ${c.req.path}` }, 404));

  app.onError((err: Error, c: Context) => {
    svc.log.log("error", "http", `${c.req.method} ${c.req.path} failed: ${err.message}`);
    return jsonResponse({ error: "internal error" }, 500);
  });

  return app;
}
