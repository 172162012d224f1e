/**
 * How the service answers: JSON with the contract's headers (`Cache-Control: no-store` and
 * `nosniff` on every response), and shared bodies sent under the response budget. The
 * lowest floor of the HTTP side: the routes and the listener both answer through it.
 *
 * @module
 */

import type { Logger } from "../base/log.ts";
import {
  type Delivery,
  type ResponseBudget,
  type SharedBody,
  sharedBody,
} from "./response_budget.ts";

/** Headers every response carries. */
export const NO_STORE = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };
/** Headers of every JSON response. */
export const JSON_HEADERS = { "Content-Type": "application/json", ...NO_STORE };
/** A 200 JSON answer's init, made once. */
const OK_JSON = { status: 200, headers: JSON_HEADERS };

/**
 * Serializes `body` as a JSON response with the contract's headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonResponse } from "./reply.ts";
 * const res = jsonResponse({ ok: true });
 * assert.equal(res.headers.get("cache-control"), "no-store");
 * assert.equal(await res.text(), '{"ok":true}');
 * ```
 */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/**
 * A JSON response from an already serialized body (a string: Deno's fast path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonText } from "./reply.ts";
 * assert.equal(jsonText("{}").headers.get("content-type"), "application/json");
 * ```
 */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: JSON_HEADERS });
}

/** What a request tells the reply: its method and route, and how Deno delivers it. */
export interface Asked {
  method: string;
  path: string;
  /** When the request arrived, on the monotonic clock (`performance.now()`). */
  at?: number;
  /** Deno's handler info; absent for an in-process request. */
  delivery?: Delivery;
}

/**
 * A response with a shared body: a small one as its text (Deno's fast path), a large one as
 * a counted stream, or 503 with `Retry-After` (logged, at most 30 lines a minute) when the
 * answers in flight, in all or on this connection, fill the budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendShared } from "./reply.ts";
 * import { createResponseBudget, sharedBody } from "./response_budget.ts";
 * import { silentLogger } from "../base/log.ts";
 * const ctx = { budget: createResponseBudget({ maxBytes: 10 }), log: silentLogger };
 * const req = { method: "GET", path: "/api/perf/history" };
 * assert.equal(sendShared(ctx, req, sharedBody("x".repeat(70_000))).status, 503);
 * assert.equal(sendShared(ctx, req, sharedBody("{}")).status, 200);
 * ```
 */
export function sendShared(
  ctx: { budget: ResponseBudget; log: Logger },
  req: Asked,
  body: SharedBody,
  headers: Record<string, string> = JSON_HEADERS,
  status = 200,
): Response {
  // Small: Deno's fast path (for HEAD too: it sends the head with the body's length).
  if (body.bytes === undefined) {
    return new Response(
      body.text,
      headers === JSON_HEADERS && status === 200 ? OK_JSON : { status, headers },
    );
  }
  const init = ctx.budget.bodyOf(body, req.method, req.delivery);
  if (init !== undefined) return new Response(init, { status, headers });
  ctx.log.log(
    "warn",
    "budget",
    `${req.path}: a ${body.byteLength}-byte answer refused (503): ${ctx.budget.pinnedBytes()} bytes of answers wait on their clients`,
  );
  return BUSY();
}

const BUSY_TEXT = JSON.stringify({ error: "busy: too many answers wait on their clients" });

/** The 503 for a full budget: small, on the fast path, never counted itself. */
function BUSY(): Response {
  return new Response(BUSY_TEXT, {
    status: 503,
    headers: { ...JSON_HEADERS, "Retry-After": "1" },
  });
}

/**
 * A JSON answer built for this request alone (`/api/perf`, `/api/health`): sent like a shared
 * body, so a large one is counted too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendJson } from "./reply.ts";
 * import { createResponseBudget } from "./response_budget.ts";
 * import { silentLogger } from "../base/log.ts";
 * const ctx = { budget: createResponseBudget(), log: silentLogger };
 * const res = sendJson(ctx, { method: "GET", path: "/api/perf" }, { ok: true });
 * assert.equal(await res.text(), '{"ok":true}');
 * ```
 */
export function sendJson(
  ctx: { budget: ResponseBudget; log: Logger },
  req: Asked,
  value: unknown,
  status = 200,
): Response {
  return sendShared(ctx, req, sharedBody(JSON.stringify(value)), JSON_HEADERS, status);
}
