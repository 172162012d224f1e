/**
 * The HTTP surface on Hono: typed, synchronous handlers over injected services, JSON
 * everywhere (but `/metrics` and the dashboard), `Cache-Control: no-store` and `nosniff` on
 * every response, 404 and 405 as JSON. {@linkcode createHandler} wraps the app with what every
 * request gets: the Host check, header and body bounds, and the service's own timing, without
 * an async hop.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { checkApiKey } from "./auth.ts";
import { DASHBOARD_CSP, DASHBOARD_HTML } from "./dashboard.ts";
import type { EventLoopFigures } from "./event_loop.ts";
import { type Freshness, freshnessOf } from "./freshness.ts";
import type { IngestFacts } from "./ingest_watch.ts";
import { type HistorySample, writeRates } from "./history.ts";
import type { IoRates } from "./io_sampler.ts";
import type { Logger } from "./log.ts";
import { memoLast } from "./memo.ts";
import { METRICS_CONTENT_TYPE, renderMetrics, renderVolatile } from "./metrics.ts";
import type { IoCounters } from "./proc_io.ts";
import { createRequestGuard } from "./request_guard.ts";
import type { RequestStats } from "./request_stats.ts";
import { type ResponseBudget, type SharedBody, sharedBody } from "./response_budget.ts";
import {
  healthzBody,
  mqttStatusBody,
  perfIoBody,
  perfSqliteBody,
  writeSourcesBody,
} from "./responses.ts";
import { round1 } from "./ring.ts";
import type { SqliteFigures } from "./sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "./stats_cache.ts";
import { judgeIngest, type JudgePolicy } from "./verdicts.ts";

/** Whether the service can answer; `reason` says why not. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** What the handlers read from; each is a plain function, so tests inject fakes. */
export interface Services {
  policy: JudgePolicy;
  /** What the ingest watch saw over the last window (replaced once a second). */
  facts: () => IngestFacts;
  /** Wall clock, ms. */
  now: () => number;
  ioRates: () => IoRates;
  ioCounters: () => IoCounters;
  /** The stats file as of now: also the liveness memo (one parsed snapshot per version). */
  stats: () => StatsState;
  statsCounters: () => StatsCacheCounters;
  sqlite: () => SqliteFigures;
  readiness: () => Readiness;
  requests: RequestStats;
  history: () => HistorySample[];
  eventLoop: () => EventLoopFigures;
  memory: () => Deno.MemoryUsage;
  /** Process start, wall clock ms. */
  startedAt: number;
  version: string;
  /** Key for POST /api/perf/reset; "" disables it. */
  apiKey: string;
  /** Host names (no port) a request may name; empty: any. */
  allowedHosts: readonly string[];
  /** Bytes that large responses waiting on their clients may pin. */
  budget: ResponseBudget;
  log: Logger;
}

const NO_STORE = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };
const JSON_HEADERS = { "Content-Type": "application/json", ...NO_STORE };
const METRICS_HEADERS = { "Content-Type": METRICS_CONTENT_TYPE, ...NO_STORE };

/**
 * Serializes `body` as a JSON response with the contract's headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonResponse } from "./app.ts";
 * const res = jsonResponse({ ok: true });
 * assert.equal(res.headers.get("cache-control"), "no-store");
 * assert.equal(await res.text(), '{"ok":true}');
 * ```
 */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** A JSON response from an already serialized body (a string: Deno's fast path). */
function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: JSON_HEADERS });
}

/**
 * A response with a shared body: a small one as its text (Deno's fast path), a large one as
 * a counted stream, or 503 when large responses already waiting on clients fill the budget.
 */
function sendShared(
  svc: Services,
  c: Context,
  body: SharedBody,
  headers: Record<string, string> = JSON_HEADERS,
): Response {
  if (body.bytes === undefined) return new Response(body.text, { headers });
  const init = svc.budget.bodyOf(body, c.req.method);
  if (init !== undefined) return new Response(init, { headers });
  svc.log.log(
    "warn",
    "budget",
    `${c.req.path}: a ${body.bytes.length}-byte answer refused (503): ${svc.budget.pinnedBytes()} bytes of answers wait on clients that do not read`,
  );
  return jsonResponse({ error: "busy: too many large answers wait on their clients" }, 503, {
    "Retry-After": "1",
  });
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
  "/api/health": PROBE,
  "/api/perf": READ,
  "/api/perf/reset": ["POST"],
  "/api/perf/history": READ,
  "/api/perf/io": READ,
  "/api/perf/sqlite": READ,
  "/api/perf/write-sources": READ,
  "/api/mqtt/status": READ,
};

/** The stats-file state, judged once per request and handed to every body builder. */
interface Judged {
  state: StatsState;
  f: Freshness;
  /** The age in tenths of a second: bodies change with it, not with every millisecond. */
  tenths: number;
}

/** The stats cache's figures in the `cache` block CoreScope's perf page shows. */
function cacheBlock(c: StatsCacheCounters, state: StatsState) {
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

/**
 * Builds the routes over `svc`. Every handler is synchronous and reads its inputs once;
 * bodies built from the stats file are cached on their inputs (which are replaced, never
 * edited) and sent as strings.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * const res = await createApp(services).request("/api/healthz");
 * ```
 */
export function createApp(svc: Services): Hono {
  const app = new Hono();
  const judge = (): Judged => {
    const state = svc.stats(), now = svc.now();
    const f = freshnessOf(state, now, svc.policy);
    return { state, f, tenths: f.ageSec === undefined ? -1 : Math.round(f.ageSec * 10) };
  };
  statsRoutes(app, svc, judge);
  healthRoutes(app, svc, judge);
  perfRoutes(app, svc);
  fallbacks(app, svc);
  return app;
}

/** The contract's endpoints built from the stats file, the I/O sampler and the database. */
function statsRoutes(app: Hono, svc: Services, judge: () => Judged): void {
  const io = memoLast((rates: IoRates, state: StatsState, fresh: boolean) =>
    JSON.stringify(perfIoBody(rates, state, fresh))
  );
  app.get("/api/perf/io", () => {
    const j = judge();
    return jsonText(io(svc.ioRates(), j.state, j.f.fresh));
  });

  // cacheHitRate: 0, as CoreScope reports without a packet store (its page flags 0-90 %).
  const sqlite = memoLast((f: SqliteFigures) => JSON.stringify(perfSqliteBody(f, 0)));
  app.get("/api/perf/sqlite", () => jsonText(sqlite(svc.sqlite())));

  const sources = memoLast((state: StatsState, tenths: number, fresh: boolean) =>
    sharedBody(JSON.stringify(writeSourcesBody(state, { fresh, tenths })))
  );
  app.get("/api/perf/write-sources", (c) => {
    const j = judge();
    return sendShared(svc, c, sources(j.state, j.tenths, j.f.fresh));
  });

  const mqtt = memoLast((state: StatsState, tenths: number, fresh: boolean) =>
    sharedBody(JSON.stringify(mqttStatusBody(state, { fresh, tenths })))
  );
  app.get("/api/mqtt/status", (c) => {
    const j = judge();
    return sendShared(svc, c, mqtt(j.state, j.tenths, j.f.fresh));
  });

  // Keys: everything the text is built from; the verdicts move with the second and the facts.
  const metrics = memoLast((
    state: StatsState,
    _fresh: boolean,
    second: number,
    facts: IngestFacts,
    ioCounters: IoCounters,
    ioSource: IoRates["ioSource"],
    sqlite: SqliteFigures,
    opens: number,
  ) => {
    const nowMs = second * 1000;
    return renderMetrics({
      ioSource,
      ioCounters,
      state,
      freshness: freshnessOf(state, nowMs, svc.policy),
      sqlite,
      cache: { ...svc.statsCounters(), opens },
      verdicts: judgeIngest(state, nowMs, svc.policy, facts),
      facts,
      version: svc.version,
    });
  });
  app.get("/metrics", (c) => {
    const j = judge(), counters = svc.statsCounters();
    const text = metrics(
      j.state,
      j.f.fresh,
      Math.floor(svc.now() / 1000),
      svc.facts(),
      svc.ioCounters(),
      svc.ioRates().ioSource,
      svc.sqlite(),
      counters.opens,
    );
    const age = j.f.ageSec === undefined ? j.f : { ...j.f, ageSec: j.tenths / 10 };
    return sendShared(svc, c, sharedBody(text + renderVolatile(counters, age)), METRICS_HEADERS);
  });

  // Built once per new sample (1 Hz) and shared: it is the largest body there is.
  const history = memoLast((_last: HistorySample | undefined, _count: number) => {
    const samples = svc.history();
    return sharedBody(
      JSON.stringify({ intervalSec: 1, samples, writeSources: writeRates(samples) }),
    );
  });
  app.get("/api/perf/history", (c) => {
    const samples = svc.history();
    return sendShared(svc, c, history(samples.at(-1), samples.length));
  });
}

/** Readiness and liveness: the contract's healthz, CoreScope's health, and plain probes. */
function healthRoutes(app: Hono, svc: Services, judge: () => Judged): void {
  // Keys: the state, its freshness, the second the verdicts are judged at, the watch's facts.
  const healthz = memoLast(
    (state: StatsState, _fresh: boolean, second: number, facts: IngestFacts) => {
      const liveness = state.kind === "ok" ? state.snapshot.sourceLiveness : undefined;
      const ingest = judgeIngest(state, second * 1000, svc.policy, facts);
      const reason = state.kind === "ok" ? undefined : state.reason;
      return sharedBody(JSON.stringify({
        ...healthzBody({ ready: true }, liveness),
        // Additive: the ingestor's trouble is reported, not turned into a 503.
        ingest: reason === undefined ? ingest : { ...ingest, statsFileReason: reason },
      }));
    },
  );
  app.get("/api/healthz", (c) => {
    const readiness = svc.readiness();
    if (!readiness.ready) return jsonResponse(healthzBody(readiness, undefined), 503);
    const j = judge();
    return sendShared(
      svc,
      c,
      healthz(j.state, j.f.fresh, Math.floor(svc.now() / 1000), svc.facts()),
    );
  });

  app.get("/api/health", () => {
    const uptime = Math.max(0, Math.floor((svc.now() - svc.startedAt) / 1000));
    const m = svc.memory(), p = svc.requests.figures(), j = judge();
    const { size: entries, ...cache } = cacheBlock(svc.statsCounters(), j.state);
    return jsonResponse({
      status: "ok",
      engine: "deno",
      version: svc.version,
      commit: "",
      buildTime: "",
      uptime,
      uptimeHuman: uptimeHuman(uptime),
      memory: {
        rss: MB(m.rss),
        heapUsed: MB(m.heapUsed),
        heapTotal: MB(m.heapTotal),
        external: MB(m.external),
      },
      eventLoop: svc.eventLoop(),
      cache: { entries, ...cache },
      websocket: { clients: 0 },
      packetStore: { packets: 0, estimatedMB: 0, trackedMB: 0 },
      perf: {
        totalRequests: p.totalRequests,
        avgMs: p.avgMs,
        slowQueries: p.slowQueries.length,
        recentSlow: p.slowQueries.slice(-5),
      },
      ready: svc.readiness().ready,
    });
  });

  app.get("/livez", () => jsonResponse({ alive: true }));
  app.get("/readyz", () => {
    const r = svc.readiness();
    return jsonResponse(r, r.ready ? 200 : 503);
  });
  for (const [path, methods] of Object.entries(ROUTES)) {
    if (!methods.includes("OPTIONS")) continue;
    app.options(
      path,
      () => new Response(null, { status: 204, headers: { Allow: PROBE.join(", "), ...NO_STORE } }),
    );
  }
}

/** The service's own figures, CoreScope's shape, and their reset. */
function perfRoutes(app: Hono, svc: Services): void {
  app.get("/api/perf", () => {
    const state = svc.stats();
    return jsonResponse({
      ...svc.requests.figures(),
      cache: cacheBlock(svc.statsCounters(), state),
    });
  });

  app.post("/api/perf/reset", (c: Context) => {
    const auth = checkApiKey(c.req.raw.headers, svc.apiKey);
    if (auth === "disabled") {
      return jsonResponse({ error: "reset is disabled: no apiKey is configured" }, 403);
    }
    if (auth !== "ok") {
      if (auth === "wrong") {
        svc.log.log("warn", "auth", "POST /api/perf/reset with a wrong API key");
      }
      return jsonResponse({ error: "unauthorized" }, 401, {
        "WWW-Authenticate": 'Bearer realm="corescope-perf"',
      });
    }
    svc.requests.reset();
    svc.log.log("info", "perf", "request statistics reset");
    return jsonResponse({ ok: true });
  });

  app.get("/", () =>
    new Response(DASHBOARD_HTML, {
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": DASHBOARD_CSP,
        "X-Frame-Options": "DENY",
        ...NO_STORE,
      },
    }));
}

/** 405 with Allow for a known path, JSON 404 for the rest, JSON 500 for a thrown error. */
function fallbacks(app: Hono, svc: Services): void {
  // In notFound rather than as `app.all(path)` routes: a second handler on every path makes
  // Hono compose a chain for every request, which cost more than the whole healthz handler.
  app.notFound((c: Context) => {
    const methods = Object.hasOwn(ROUTES, c.req.path) ? ROUTES[c.req.path] : undefined;
    if (methods) {
      // The method is not echoed either: `Allow` says what is.
      return jsonResponse({ error: "method not allowed" }, 405, {
        Allow: methods.join(", "),
      });
    }
    // The path is not echoed: it is a client's text, and bodies may be shown as HTML elsewhere.
    return jsonResponse({ error: "no such route" }, 404);
  });
  app.onError((err: Error, c: Context) => {
    svc.log.log("error", "http", `${c.req.method} ${routeOf(c.req.path)} failed: ${err.message}`);
    return jsonResponse({ error: "internal error" }, 500);
  });
}

/** The route-table name of `path`, or `other`: never a client's raw path. */
function routeOf(path: string): string {
  return Object.hasOwn(ROUTES, path) ? path : "other";
}

/**
 * The path of a request URL without parsing it (`http://host:port/path?query`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathOf } from "./app.ts";
 * assert.equal(pathOf("http://127.0.0.1:8080/api/healthz?x=1"), "/api/healthz");
 * assert.equal(pathOf("http://h"), "/");
 * ```
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const q = url.indexOf("?", start), h = url.indexOf("#", start);
  const end = q === -1 ? (h === -1 ? url.length : h) : q;
  return url.slice(start, end);
}

/**
 * Wraps the app: the request guard first (a missing, malformed or mismatched Host: 400; a
 * Host not allowed: 421; declared bodies over the bound: 413), then times the request for
 * `/api/perf` under its route name. Synchronous where the handler is.
 *
 * @example
 * ```ts ignore
 * import { createHandler } from "./app.ts";
 * Deno.serve(createHandler(services));
 * ```
 */
export function createHandler(
  svc: Services,
  app: Hono = createApp(svc),
): (req: Request) => Response | Promise<Response> {
  const guard = createRequestGuard(svc.allowedHosts);
  return (req) => {
    const t0 = performance.now();
    const refused = guard(req);
    const res = refused === undefined
      ? app.fetch(req)
      : jsonResponse({ error: refused.error }, refused.status);
    const endpoint = routeOf(pathOf(req.url));
    if (res instanceof Promise) {
      return res.then((r) => {
        svc.requests.record(endpoint, r.status, performance.now() - t0);
        return r;
      });
    }
    svc.requests.record(endpoint, res.status, performance.now() - t0);
    return res;
  };
}
