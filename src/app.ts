/**
 * The HTTP surface on Hono: typed handlers over injected services, JSON everywhere,
 * `Cache-Control: no-store` on every response, 404 and 405 as JSON.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { FreshnessPolicy } from "./freshness.ts";
import type { IoRates } from "./io_sampler.ts";
import type { Logger } from "./log.ts";
import {
  healthzBody,
  mqttStatusBody,
  perfIoBody,
  perfSqliteBody,
  writeSourcesBody,
} from "./responses.ts";
import type { SqliteFigures } from "./sqlite_stats.ts";
import type { StatsState } from "./stats_cache.ts";
import type { SourceLiveness } from "./stats_snapshot.ts";

/** Whether the service can answer; `reason` says why not. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** What the handlers read from; each is a plain function, so tests inject fakes. */
export interface Services {
  policy: FreshnessPolicy;
  /** Wall clock, ms. */
  now: () => number;
  ioRates: () => IoRates;
  stats: () => StatsState;
  statsHitRate: () => number;
  liveness: () => Record<string, SourceLiveness> | undefined;
  sqlite: () => SqliteFigures;
  readiness: () => Readiness;
  log: Logger;
}

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };

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

/** Routes and the methods each answers (HEAD goes with GET). */
export const ROUTES: Record<string, string[]> = {
  "/api/perf/io": ["GET", "HEAD"],
  "/api/perf/sqlite": ["GET", "HEAD"],
  "/api/perf/write-sources": ["GET", "HEAD"],
  "/api/healthz": ["GET", "HEAD"],
  "/api/mqtt/status": ["GET", "HEAD"],
};

/**
 * Builds the app over `svc`.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * declare const svc: import("./app.ts").Services;
 * const res = await createApp(svc).request("/api/healthz");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(svc: Services): Hono {
  const app = new Hono();

  app.get(
    "/api/perf/io",
    () => jsonResponse(perfIoBody(svc.ioRates(), svc.stats(), svc.now(), svc.policy)),
  );

  app.get("/api/perf/sqlite", () => jsonResponse(perfSqliteBody(svc.sqlite(), svc.statsHitRate())));

  app.get(
    "/api/perf/write-sources",
    () => jsonResponse(writeSourcesBody(svc.stats(), svc.now(), svc.policy)),
  );

  app.get("/api/healthz", () => {
    const readiness = svc.readiness();
    const body = healthzBody(readiness, readiness.ready ? svc.liveness() : undefined);
    return jsonResponse(body, body.ready ? 200 : 503);
  });

  app.get(
    "/api/mqtt/status",
    () => jsonResponse(mqttStatusBody(svc.stats(), svc.now(), svc.policy)),
  );

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
