/**
 * API key checks for the few mutating endpoints, in constant time.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Outcome of {@linkcode checkApiKey}, mapped to 404-free statuses by the caller. */
export type AuthResult = "ok" | "disabled" | "missing" | "wrong";

/**
 * Compares a given key with the configured one in time that depends only on the configured
 * key's length: every byte of it is compared, with no early exit, whatever is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keysMatch } from "./auth.ts";
 * assert.deepEqual(keysMatch("a-long-enough-key", "a-long-enough-key"), true);
 * ```
 */
export function keysMatch(given: string, configured: string): boolean {
  const g = encoder.encode(given), c = encoder.encode(configured);
  let diff = g.length ^ c.length;
  for (let i = 0; i < c.length; i++) diff |= c[i]! ^ (g[i] ?? 0);
  return diff === 0;
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
