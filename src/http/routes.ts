/**
 * The HTTP surface: a table of routes, each a typed, synchronous handler over injected
 * services; JSON everywhere (but `/metrics` and the dashboard), `Cache-Control: no-store` and
 * `nosniff` on every response, 404 and 405 as JSON. A route is an exact path: the table is a
 * map lookup, and {@linkcode createHandler} adds what every request gets: the Host check,
 * header and body bounds, and the service's own timing, without an async hop.
 *
 * Every body that depends only on the version of its inputs (a stats file version, an I/O
 * sample, a database reading, the tenth of a second) is built once per version and shared:
 * the per-request path is a lookup and a send.
 *
 * @module
 */

import { checkApiKey } from "./auth.ts";
import { DASHBOARD_CSP, DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./dashboard.ts";
import { type Freshness, freshnessOf } from "../judge/freshness.ts";
import type { IngestFacts } from "../judge/ingest_watch.ts";
import type { DiskFacts } from "../judge/disk_forecast.ts";
import { type HistorySample, writeRates } from "../judge/history.ts";
import type { IoRates } from "../inputs/io_sampler.ts";
import { memoLast } from "../base/memo.ts";
import { METRICS_CONTENT_TYPE, renderMetrics, renderVolatile } from "./metrics.ts";
import type { IoCounters } from "../inputs/proc_io.ts";
import { createRequestGuard, pathOf } from "./request_guard.ts";
import { type Delivery, type SharedBody, sharedBody } from "./response_budget.ts";
import { type Asked, jsonResponse, NO_STORE, sendJson, sendShared } from "./reply.ts";
import {
  diskSpaceBody,
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
import { type IngestVerdicts, judgeIngest, verdictsValidUntil } from "../judge/verdicts.ts";

const METRICS_HEADERS = { "Content-Type": METRICS_CONTENT_TYPE, ...NO_STORE };

const READ = ["GET", "HEAD"];
const PROBE = ["GET", "HEAD", "OPTIONS"];

/** Routes and the methods each answers (HEAD goes with GET). */
export const ROUTES: Record<string, string[]> = {
  "/": READ,
  "/dashboard.css": READ,
  "/dashboard.js": READ,
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

/** A route's handler: the request, and what its reply needs to know of it. */
export type Handler = (req: Request, asked: Asked) => Response;

/** A route's handlers by method (HEAD answered by GET's). */
export type Route = Partial<Record<"GET" | "POST", Handler>>;

/** The routes by path. */
export type RouteTable = Map<string, Route>;

/** The stats-file state, judged once per request and handed to every body builder. */
interface Judged {
  state: StatsState;
  f: Freshness;
  /** When it was judged (wall clock, ms). */
  nowMs: number;
  /** The age in tenths of a second: bodies change with it, not with every millisecond. */
  tenths: number;
}

/** The app: the route table, and a way to ask it in-process (tests). */
export interface App {
  routes: RouteTable;
  /** Answers `req` (no Host check, no timing: that is {@linkcode createHandler}'s). */
  fetch(req: Request, delivery?: Delivery): Response;
  /** Answers a GET (or `init`) of `path` on `http://localhost`. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Builds the routes over `svc`. Every handler is synchronous and reads its inputs once;
 * bodies are cached on their inputs (which are replaced, never edited) and sent shared.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./routes.ts";
 * const res = await createApp(services).request("/api/healthz");
 * ```
 */
export function createApp(svc: Services): App {
  const routes: RouteTable = new Map();
  // Judged once per stats version and millisecond: under load, dozens of requests share one.
  let last: Judged | undefined;
  const judge = (at?: number): Judged => {
    const state = svc.stats(at), nowMs = svc.now();
    if (last !== undefined && last.state === state && last.nowMs === nowMs) return last;
    const f = freshnessOf(state, nowMs, svc.policy);
    const tenths = f.ageSec === undefined ? -1 : Math.round(f.ageSec * 10);
    return last = { state, f, nowMs, tenths };
  };
  const verdicts = verdictsOf(svc);
  statsRoutes(routes, svc, judge);
  metricsRoutes(routes, svc, judge, verdicts);
  healthRoutes(routes, svc, judge, verdicts);
  perfRoutes(routes, svc, judge);
  const fetch = (req: Request, delivery?: Delivery) => {
    const path = pathOf(req.url);
    return dispatch(routes.get(path), path, svc, req, delivery);
  };
  return {
    routes,
    fetch,
    request: (path, init) => Promise.resolve(fetch(new Request(`http://localhost${path}`, init))),
  };
}

/**
 * The verdicts at the judged time, kept while nothing they depend on changed: the state, its
 * freshness (judged to the millisecond), the watch's facts, and the clock, up to the next
 * threshold one of the ingestor's clocks crosses (judged to the millisecond too).
 */
function verdictsOf(svc: Services): (j: Judged, facts: IngestFacts) => IngestVerdicts {
  let last: { j: Judged; until: number; facts: IngestFacts; v: IngestVerdicts } | undefined;
  return (j, facts) => {
    if (
      last && last.j.state === j.state && last.j.f.fresh === j.f.fresh &&
      last.j.f.reason === j.f.reason && last.facts === facts &&
      j.nowMs >= last.j.nowMs && j.nowMs <= last.until
    ) return last.v;
    const v = judgeIngest(j.state, j.nowMs, svc.policy, facts);
    last = { j, until: verdictsValidUntil(j.state, facts, svc.policy, j.nowMs), facts, v };
    return v;
  };
}

/** The contract's endpoints built from the stats file, the I/O sampler and the database. */
function statsRoutes(routes: RouteTable, svc: Services, judge: (at?: number) => Judged): void {
  const io = memoLast((rates: IoRates, state: StatsState, fresh: boolean) =>
    sharedBody(JSON.stringify(perfIoBody(rates, state, fresh)))
  );
  routes.set("/api/perf/io", {
    GET: (_req, a) => {
      const j = judge(a.at);
      return sendShared(svc, a, io(svc.ioRates(), j.state, j.f.fresh));
    },
  });

  // cacheHitRate: 0, as CoreScope reports without a packet store (its page flags 0-90 %).
  const sqlite = memoLast((f: SqliteFigures) => sharedBody(JSON.stringify(perfSqliteBody(f, 0))));
  routes.set("/api/perf/sqlite", { GET: (_req, a) => sendShared(svc, a, sqlite(svc.sqlite())) });

  // The stats file's own answers: one body per version, age in tenths and freshness.
  const fromState = (
    path: string,
    body: (state: StatsState, at: { fresh: boolean; tenths: number }) => unknown,
  ) => {
    const built = memoLast((state: StatsState, tenths: number, fresh: boolean) =>
      sharedBody(JSON.stringify(body(state, { fresh, tenths })))
    );
    routes.set(path, {
      GET: (_req, a) => {
        const j = judge(a.at);
        return sendShared(svc, a, built(j.state, j.tenths, j.f.fresh));
      },
    });
  };
  fromState("/api/perf/write-sources", writeSourcesBody);
  fromState("/api/mqtt/status", mqttStatusBody);
}

/** `/metrics`, and the history behind the dashboard. */
function metricsRoutes(
  routes: RouteTable,
  svc: Services,
  judge: (at?: number) => Judged,
  verdicts: (j: Judged, facts: IngestFacts) => IngestVerdicts,
): void {
  // The families of the inputs' versions: the verdicts move with the second and the facts.
  const families = memoLast((
    j: Judged,
    v: IngestVerdicts,
    facts: IngestFacts,
    ioCounters: IoCounters,
    ioSource: IoRates["ioSource"],
    sqlite: SqliteFigures,
    opens: number,
  ) =>
    renderMetrics({
      ioSource,
      ioWanted: svc.ioWanted ?? "procfs",
      ioCounters,
      state: j.state,
      freshness: j.f,
      sqlite,
      cache: { ...svc.statsCounters(), opens },
      verdicts: v,
      facts,
      process: svc.process(),
      version: svc.version,
    }), (a, b) => a.state === b.state && a.f.fresh === b.f.fresh);
  // The whole text, once per tenth of a second at most: the lookup counters, the age and the
  // budget's figures move with every request, and a scrape a tenth old is a true scrape.
  let text: { tenth: number; fixed: string; body: SharedBody } | undefined;
  const whole = (j: Judged, fixed: string): SharedBody => {
    const tenth = Math.floor(j.nowMs / 100);
    if (text && text.tenth === tenth && text.fixed === fixed) return text.body;
    const age = j.f.ageSec === undefined ? j.f : { ...j.f, ageSec: j.tenths / 10 };
    const volatile = renderVolatile(svc.statsCounters(), age, {
      bytes: svc.budget.pinnedBytes(),
      refused: svc.budget.refused(),
    });
    text = { tenth, fixed, body: sharedBody(fixed + volatile) };
    return text.body;
  };
  routes.set("/metrics", {
    GET: (_req, a) => {
      const j = judge(a.at), facts = svc.facts();
      const fixed = families(
        j,
        verdicts(j, facts),
        facts,
        svc.ioCounters(),
        svc.ioRates().ioSource,
        svc.sqlite(),
        svc.statsCounters().opens,
      );
      return sendShared(svc, a, whole(j, fixed), METRICS_HEADERS);
    },
  });

  // Built once per new sample (1 Hz) and shared: it is the largest body there is.
  const history = memoLast((_last: HistorySample | undefined, _count: number) => {
    const samples = svc.history();
    return sharedBody(JSON.stringify(historyBody(samples, writeRates(samples))));
  });
  routes.set("/api/perf/history", {
    GET: (_req, a) => {
      const samples = svc.history();
      return sendShared(svc, a, history(samples.at(-1), samples.length));
    },
  });
}

/** Readiness and liveness: the contract's healthz, CoreScope's health, and plain probes. */
function healthRoutes(
  routes: RouteTable,
  svc: Services,
  judge: (at?: number) => Judged,
  verdicts: (j: Judged, facts: IngestFacts) => IngestVerdicts,
): void {
  // One body per verdicts object (itself kept while its inputs are) and disk reading.
  const healthz = memoLast((state: StatsState, ingest: IngestVerdicts, disk?: DiskFacts) => {
    const liveness = state.kind === "ok" ? state.snapshot.sourceLiveness : undefined;
    const reason = state.kind === "ok" ? undefined : state.reason;
    return sharedBody(JSON.stringify({
      ...healthzBody({ ready: true }, liveness),
      // Additive: the ingestor's trouble is reported, not turned into a 503.
      ingest: {
        ...ingest,
        ...(reason === undefined ? {} : { statsFileReason: reason }),
        ...(disk ? { diskSpace: diskSpaceBody(disk) } : {}),
      },
    }));
  });
  routes.set("/api/healthz", {
    GET: (_req, a) => {
      const readiness = svc.readiness();
      if (!readiness.ready) return jsonResponse(healthzBody(readiness, undefined), 503);
      const j = judge(a.at);
      const facts = svc.facts();
      return sendShared(svc, a, healthz(j.state, verdicts(j, facts), facts.disk));
    },
  });

  routes.set("/api/health", {
    GET: (_req, a) =>
      sendJson(
        svc,
        a,
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
      ),
  });

  const alive = sharedBody(JSON.stringify({ alive: true }));
  routes.set("/livez", { GET: (_req, a) => sendShared(svc, a, alive) });
  routes.set("/readyz", {
    GET: () => {
      const r = svc.readiness();
      return jsonResponse(r, r.ready ? 200 : 503);
    },
  });
}

/** The service's own figures, CoreScope's shape, their reset, and the dashboard. */
function perfRoutes(routes: RouteTable, svc: Services, judge: (at?: number) => Judged): void {
  routes.set("/api/perf", {
    GET: (_req, a) =>
      sendJson(svc, a, perfBody(svc.requests.figures(), svc.statsCounters(), judge().state)),
  });

  routes.set("/api/perf/reset", {
    POST: (req) => {
      const auth = checkApiKey(req.headers, svc.apiKey);
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
    },
  });

  const dashboard = sharedBody(DASHBOARD_HTML);
  const dashboardHeaders = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Frame-Options": "DENY",
    ...NO_STORE,
  };
  routes.set("/", { GET: (_req, a) => sendShared(svc, a, dashboard, dashboardHeaders) });
  for (
    const [path, text, type] of [
      ["/dashboard.css", DASHBOARD_CSS, "text/css; charset=utf-8"],
      ["/dashboard.js", DASHBOARD_JS, "text/javascript; charset=utf-8"],
    ] as const
  ) {
    const body = sharedBody(text);
    const headers = { "Content-Type": type, ...NO_STORE };
    routes.set(path, { GET: (_req, a) => sendShared(svc, a, body, headers) });
  }
}

const OPTIONS_HEADERS = { Allow: PROBE.join(", "), ...NO_STORE };

/**
 * One request through the table: its handler by method (HEAD by GET's, OPTIONS for the
 * probes), 405 with `Allow` for a known path, a JSON 404 for the rest, a JSON 500 (logged)
 * for a handler that throws.
 */
function dispatch(
  route: Route | undefined,
  path: string,
  svc: Services,
  req: Request,
  delivery: Delivery | undefined,
  at?: number,
): Response {
  // The path is not echoed: it is a client's text, and bodies may be shown as HTML elsewhere.
  if (route === undefined) return jsonResponse({ error: "no such route" }, 404);
  const method = req.method;
  const handler = method === "GET" || method === "HEAD"
    ? route.GET
    : method === "POST"
    ? route.POST
    : undefined;
  if (handler === undefined) {
    if (method === "OPTIONS" && ROUTES[path]!.includes("OPTIONS")) {
      return new Response(null, { status: 204, headers: OPTIONS_HEADERS });
    }
    // The method is not echoed either: `Allow` says what is.
    return jsonResponse({ error: "method not allowed" }, 405, { Allow: ROUTES[path]!.join(", ") });
  }
  try {
    const res = handler(req, { method, path, delivery, at });
    // HEAD: GET's status and headers, no body (a counted body was never made for it).
    return method === "HEAD" ? new Response(null, res) : res;
  } catch (err) {
    svc.log.log("error", "http", `${method} ${path} failed: ${(err as Error)?.message ?? err}`);
    return jsonResponse({ error: "internal error" }, 500);
  }
}

/** Each route's name in the table (a constant string), `other` for the rest: never a path. */
const NAMES = new Map(Object.keys(ROUTES).map((p) => [p, p]));

/**
 * Wraps the app: the request guard first (a missing, malformed or mismatched Host: 400; a
 * Host not allowed: 421; declared bodies over the bound: 413), then times the request for
 * `/api/perf` under its route name. Synchronous.
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
): (req: Request, info?: Delivery) => Response {
  const guard = createRequestGuard(svc.allowedHosts);
  return (req, info) => {
    const t0 = performance.now();
    const path = pathOf(req.url);
    const refused = guard(req);
    const res = refused === undefined
      ? dispatch(app.routes.get(path), path, svc, req, info, t0)
      : jsonResponse({ error: refused.error }, refused.status);
    svc.requests.record(NAMES.get(path) ?? "other", res.status, performance.now() - t0);
    return res;
  };
}
