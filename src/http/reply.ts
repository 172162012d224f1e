/**
 * How the service answers: JSON with the contract's headers (`Cache-Control: no-store` and
 * `nosniff` on every response), and shared bodies sent under the response budget. The
 * lowest floor of the HTTP side: the routes and the listener both answer through it.
 *
 * @module
 */

import type { Logger } from "../base/log.ts";
import type { ResponseBudget, SharedBody } from "./response_budget.ts";

/** Headers every response carries. */
export const NO_STORE = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };
/** Headers of every JSON response. */
export const JSON_HEADERS = { "Content-Type": "application/json", ...NO_STORE };

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

/**
 * A response with a shared body: a small one as its text (Deno's fast path), a large one as
 * a counted stream, or 503 (logged) when large answers already waiting on clients fill the
 * budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendShared } from "./reply.ts";
 * import { createResponseBudget, sharedBody } from "./response_budget.ts";
 * import { silentLogger } from "../base/log.ts";
 * const ctx = { budget: createResponseBudget({ maxPinnedBytes: 10 }), log: silentLogger };
 * const req = { method: "GET", path: "/api/perf/history" };
 * assert.equal(sendShared(ctx, req, sharedBody("x".repeat(70_000))).status, 503);
 * ```
 */
export function sendShared(
  ctx: { budget: ResponseBudget; log: Logger },
  req: { method: string; path: string },
  body: SharedBody,
  headers: Record<string, string> = JSON_HEADERS,
): Response {
  if (body.bytes === undefined) return new Response(body.text, { headers });
  const init = ctx.budget.bodyOf(body, req.method);
  if (init !== undefined) return new Response(init, { headers });
  ctx.log.log(
    "warn",
    "budget",
    `${req.path}: a ${body.bytes.length}-byte answer refused (503): ${ctx.budget.pinnedBytes()} bytes of answers wait on clients that do not read`,
  );
  return jsonResponse({ error: "busy: too many large answers wait on their clients" }, 503, {
    "Retry-After": "1",
  });
}
