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
import { type Freshness, freshnessOf } from "../judge/freshness.ts";
import type { IngestFacts } from "../judge/ingest_watch.ts";
import { type HistorySample, writeRates } from "../judge/history.ts";
import type { IoRates } from "../inputs/io_sampler.ts";
import { memoLast } from "../base/memo.ts";
import { METRICS_CONTENT_TYPE, renderMetrics, renderVolatile } from "./metrics.ts";
import type { IoCounters } from "../inputs/proc_io.ts";
import { createRequestGuard, pathOf } from "./request_guard.ts";
import { type Delivery, sharedBody } from "./response_budget.ts";
import { type Asked, jsonResponse, NO_STORE, sendJson, sendShared } from "./reply.ts";
import {
  healthBody,
  healthzBody,
  historyBody,
  mqttStatusBody,
  perfBody,
  perfIoBody,
  perfSqliteBody,
  writeSourcesBody,
} from "./responses.ts";
import type { Services } from "./services.ts";
import type { SqliteFigures } from "../inputs/sqlite_stats.ts";
import type { StatsState } from "../inputs/stats_cache.ts";
import { judgeIngest } from "../judge/verdicts.ts";

const METRICS_HEADERS = { "Content-Type": METRICS_CONTENT_TYPE, ...NO_STORE };

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

/** The app: Deno's handler info (how the response is delivered) is its env. */
type App = Hono<{ Bindings: Delivery | undefined }>;
type Ctx = Context<{ Bindings: Delivery | undefined }>;

/** What a handler's reply needs to know of its request. */
function asked(c: Ctx): Asked {
  return { method: c.req.method, path: c.req.path, delivery: c.env };
}

/** The stats-file state, judged once per request and handed to every body builder. */
interface Judged {
  state: StatsState;
  f: Freshness;
  /** The age in tenths of a second: bodies change with it, not with every millisecond. */
  tenths: number;
}

/**
 * Builds the routes over `svc`. Every handler is synchronous and reads its inputs once;
 * bodies built from the stats file are cached on their inputs (which are replaced, never
 * edited) and sent as strings.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./routes.ts";
 * const res = await createApp(services).request("/api/healthz");
 * ```
 */
export function createApp(svc: Services): App {
  const app: App = new Hono();
  const judge = (): Judged => {
    const state = svc.stats(), now = svc.now();
    const f = freshnessOf(state, now, svc.policy);
    return { state, f, tenths: f.ageSec === undefined ? -1 : Math.round(f.ageSec * 10) };
  };
  statsRoutes(app, svc, judge);
  metricsRoutes(app, svc, judge);
  healthRoutes(app, svc, judge);
  perfRoutes(app, svc);
  fallbacks(app, svc);
  return app;
}

/** The contract's endpoints built from the stats file, the I/O sampler and the database. */
function statsRoutes(app: App, svc: Services, judge: () => Judged): void {
  const io = memoLast((rates: IoRates, state: StatsState, fresh: boolean) =>
    sharedBody(JSON.stringify(perfIoBody(rates, state, fresh)))
  );
  app.get("/api/perf/io", (c) => {
    const j = judge();
    return sendShared(svc, asked(c), io(svc.ioRates(), j.state, j.f.fresh));
  });

  // cacheHitRate: 0, as CoreScope reports without a packet store (its page flags 0-90 %).
  const sqlite = memoLast((f: SqliteFigures) => sharedBody(JSON.stringify(perfSqliteBody(f, 0))));
  app.get("/api/perf/sqlite", (c) => sendShared(svc, asked(c), sqlite(svc.sqlite())));

  const sources = memoLast((state: StatsState, tenths: number, fresh: boolean) =>
    sharedBody(JSON.stringify(writeSourcesBody(state, { fresh, tenths })))
  );
  app.get("/api/perf/write-sources", (c) => {
    const j = judge();
    return sendShared(svc, asked(c), sources(j.state, j.tenths, j.f.fresh));
  });

  const mqtt = memoLast((state: StatsState, tenths: number, fresh: boolean) =>
    sharedBody(JSON.stringify(mqttStatusBody(state, { fresh, tenths })))
  );
  app.get("/api/mqtt/status", (c) => {
    const j = judge();
    return sendShared(svc, asked(c), mqtt(j.state, j.tenths, j.f.fresh));
  });
}

/** `/metrics`, and the history behind the dashboard. */
function metricsRoutes(app: App, svc: Services, judge: () => Judged): void {
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
      process: svc.process(),
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
    return sendShared(
      svc,
      asked(c),
      sharedBody(
        text + renderVolatile(counters, age, {
          bytes: svc.budget.pinnedBytes(),
          refused: svc.budget.refused(),
        }),
      ),
      METRICS_HEADERS,
    );
  });

  // Built once per new sample (1 Hz) and shared: it is the largest body there is.
  const history = memoLast((_last: HistorySample | undefined, _count: number) => {
    const samples = svc.history();
    return sharedBody(JSON.stringify(historyBody(samples, writeRates(samples))));
  });
  app.get("/api/perf/history", (c) => {
    const samples = svc.history();
    return sendShared(svc, asked(c), history(samples.at(-1), samples.length));
  });
}

/** Readiness and liveness: the contract's healthz, CoreScope's health, and plain probes. */
function healthRoutes(app: App, svc: Services, judge: () => Judged): void {
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
      asked(c),
      healthz(j.state, j.f.fresh, Math.floor(svc.now() / 1000), svc.facts()),
    );
  });

  app.get("/api/health", (c) =>
    sendJson(
      svc,
      asked(c),
      healthBody({
        uptime: Math.max(0, Math.floor((svc.now() - svc.startedAt) / 1000)),
        version: svc.version,
        memory: svc.memory(),
        eventLoop: svc.eventLoop(),
        cache: svc.statsCounters(),
        state: judge().state,
        requests: svc.requests.figures(),
        ready: svc.readiness().ready,
      }),
    ));

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
function perfRoutes(app: App, svc: Services): void {
  app.get(
    "/api/perf",
    (c) =>
      sendJson(svc, asked(c), perfBody(svc.requests.figures(), svc.statsCounters(), svc.stats())),
  );

  app.post("/api/perf/reset", (c: Ctx) => {
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

  const dashboard = sharedBody(DASHBOARD_HTML);
  const dashboardHeaders = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Frame-Options": "DENY",
    ...NO_STORE,
  };
  app.get("/", (c) => sendShared(svc, asked(c), dashboard, dashboardHeaders));
}

/** 405 with Allow for a known path, JSON 404 for the rest, JSON 500 for a thrown error. */
function fallbacks(app: App, svc: Services): void {
  // In notFound rather than as `app.all(path)` routes: a second handler on every path makes
  // Hono compose a chain for every request, which cost more than the whole healthz handler.
  app.notFound((c: Ctx) => {
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
  app.onError((err: Error, c: Ctx) => {
    svc.log.log("error", "http", `${c.req.method} ${routeOf(c.req.path)} failed: ${err.message}`);
    return jsonResponse({ error: "internal error" }, 500);
  });
}

/** The route-table name of `path`, or `other`: never a client's raw path. */
function routeOf(path: string): string {
  return Object.hasOwn(ROUTES, path) ? path : "other";
}

/**
 * Wraps the app: the request guard first (a missing, malformed or mismatched Host: 400; a
 * Host not allowed: 421; declared bodies over the bound: 413), then times the request for
 * `/api/perf` under its route name. Synchronous where the handler is.
 *
 * @example
 * ```ts ignore
 * import { createHandler } from "./routes.ts";
 * Deno.serve(createHandler(services));
 * ```
 */
export function createHandler(
  svc: Services,
  app: App = createApp(svc),
): (req: Request, info?: Delivery) => Response | Promise<Response> {
  const guard = createRequestGuard(svc.allowedHosts);
  return (req, info) => {
    const t0 = performance.now();
    const refused = guard(req);
    const res = refused === undefined
      ? app.fetch(req, info)
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
