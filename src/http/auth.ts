/**
 * API key checks for the few mutating endpoints, in constant time.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** Outcome of {@linkcode checkApiKey}, mapped to 404-free statuses by the caller. */
export type AuthResult = "ok" | "disabled" | "missing" | "wrong";

/**
 * Compares two secrets in time independent of where they differ: both are hashed first, so
 * lengths leak nothing either.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keysMatch } from "./auth.ts";
 * assert.deepEqual(keysMatch("a-long-enough-key", "a-long-enough-key"), true);
 * ```
 */
export function keysMatch(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Reads the key from `Authorization: Bearer KEY` or `X-API-Key: KEY` and checks it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkApiKey } from "./auth.ts";
 * assert.deepEqual(checkApiKey(new Headers({ "x-api-key": "nope" }), ""), "disabled");
 * ```
 */
export function checkApiKey(headers: Headers, configured: string): AuthResult {
  if (configured === "") return "disabled";
  const auth = headers.get("authorization");
  const given = auth?.match(/^Bearer\s+(.+)$/i)?.[1] ?? headers.get("x-api-key") ?? undefined;
  if (given === undefined || given === "") return "missing";
  return keysMatch(given, configured) ? "ok" : "wrong";
}
