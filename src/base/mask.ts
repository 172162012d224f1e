/**
 * Credential masking for broker URLs, by the userinfo pattern rather than a URL parser: a
 * parser fails on passwords holding `/`, `?`, `#`, spaces or `%` escapes and would let them
 * out unmasked. Every pass is linear in its input (no pattern that backtracks over what an
 * attacker writes), and {@linkcode maskBounded} cuts its input before any pass runs.
 *
 * @module
 */

/** The replacement for a password. */
export const MASK = "****";

// Any URL scheme (RFC 3986: a letter, then letters, digits, "+", "-", "."), in any case,
// then "://". The scheme must not be the tail of a longer word ("xmqtt://" is "xmqtt://").
// The lookbehind comes first, so only the first character of a run starts a match: linear.
const SCHEME = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;
// `password=...` (and its usual spellings) in a query string or a key=value list. The value
// run takes "=" too, so one match swallows a repeated key: linear.
const QUERY = /\b(password|passwd|pwd|pass|secret|token|api_?key)=([^&\s#;"']+)/gi;
// The end of a URL's authority.
const AUTHORITY_END = /[\s/?#]/g;
// Runs of non-white-space: the tokens a bare `user:password@host` may stand in.
const TOKEN = /\S+/g;
// Characters that may stand right before a bare `user:` (besides the start of a token).
const BARE_PREFIX = "\"'=(,;";

/**
 * Replaces every password that could stand in `text` with `****`:
 * - in every `scheme://user:password@host`, whatever the scheme and its case: the user is
 *   kept, the userinfo ends at the LAST "@" before the next `scheme://` (or the end of the
 *   text), so a password may hold "@", line breaks, or even " ws://";
 * - in a bare `user:password@host`, and in `password=...` query parameters.
 * A URL without a password, or text without any of these, comes back unchanged. Time is
 * linear in `text.length`; callers that take text from outside use {@linkcode maskBounded}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskCredentials } from "./mask.ts";
 * assert.equal(maskCredentials("mqtt://u:p@ss@host:1883"), "mqtt://u:****@host:1883");
 * assert.equal(maskCredentials("tls://u:pw@:8883"), "tls://u:****@:8883");
 * assert.equal(maskCredentials("mqtt://broker:1883"), "mqtt://broker:1883");
 * assert.equal(maskCredentials("u:pw@host:1883"), "u:****@host:1883");
 * assert.equal(maskCredentials("wss://h/mqtt?password=pw"), "wss://h/mqtt?password=****");
 * ```
 */
export function maskCredentials(text: string): string {
  let out = text.includes("://") ? maskUrls(text) : text;
  if (out.includes("@")) out = maskBare(out);
  if (out.includes("=")) out = out.replace(QUERY, (_m, key) => `${key}=${MASK}`);
  return out;
}

/**
 * Masks text from outside and cuts it to `maxChars` (then `…`), in time bounded by
 * `maxChars`, not by the input: the input is cut to `2 * maxChars` before any pass runs. A
 * cut input is masked as if its userinfo ran to the cut (a password whose "@" lies past the
 * cut is still masked), and the result is well-formed UTF-16 (a cut through a surrogate pair
 * leaves no lone half).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskBounded } from "./mask.ts";
 * assert.equal(maskBounded("mqtt://u:pw@h", 128), "mqtt://u:****@h");
 * const long = "mqtt://u:" + "s".repeat(1000) + "@h";
 * assert.equal(maskBounded(long, 16), "mqtt://u:****…");
 * ```
 */
export function maskBounded(raw: string, maxChars: number): string {
  let masked: string;
  if (raw.length > 2 * maxChars) {
    // An "@" after the cut closes any userinfo still open there, so its tail is masked.
    masked = maskCredentials(`${raw.slice(0, 2 * maxChars)}@`);
    if (masked.endsWith("@")) masked = masked.slice(0, -1);
    masked = `${masked.slice(0, maxChars)}…`;
  } else {
    masked = maskCredentials(raw);
    if (masked.length > maxChars) masked = `${masked.slice(0, maxChars)}…`;
  }
  return masked.toWellFormed();
}

function maskUrls(text: string): string {
  // Where each `scheme://` starts, and where its body (after "://") starts: two flat arrays,
  // not an object per URL (a hostile text holds tens of thousands).
  const at: number[] = [], bodyAt: number[] = [];
  SCHEME.lastIndex = 0;
  for (let m = SCHEME.exec(text); m !== null; m = SCHEME.exec(text)) {
    at.push(m.index);
    bodyAt.push(m.index + m[0].length);
  }
  const endOf = (k: number) => (k < at.length ? at[k]! : text.length);
  // The next "@" at or after a position (Infinity: none); positions only grow, so one search
  // serves many.
  let nextAt = -1;
  const atFrom = (p: number) => {
    if (nextAt < p) {
      const found = text.indexOf("@", p);
      nextAt = found === -1 ? Infinity : found;
    }
    return nextAt;
  };
  // Only masked bodies are spliced in; the text between them is copied once, at the end.
  const parts: string[] = [];
  let copied = 0;
  for (let i = 0; i < at.length;) {
    const body0 = bodyAt[i]!;
    const firstAt = atFrom(body0);
    const hasAt = (end: number) => firstAt < end;
    let j = i + 1;
    // A password may itself hold " ws://": while this URL's userinfo is still open (a colon
    // not followed by a port) and no "@" closed it, the next "scheme://" is part of it.
    if (!hasAt(endOf(j))) {
      const opens = userinfoOpens(text, body0);
      while (!hasAt(endOf(j)) && j < at.length && opens(endOf(j))) j++;
    }
    if (hasAt(endOf(j))) {
      parts.push(text.slice(copied, body0), maskBody(text.slice(body0, endOf(j))));
      copied = endOf(j);
    }
    i = j;
  }
  parts.push(text.slice(copied));
  return parts.join("");
}

/**
 * For the URL body starting at `bodyAt`: whether the text up to `end` starts like
 * `user:secret` (not `host:port`). One scan of the authority, then O(1) per question. (The
 * authority ends at white space or `/`, and every `scheme://` holds a `/`: each scan stops
 * before the next URL's body, so all of them together stay linear.)
 */
function userinfoOpens(text: string, bodyAt: number): (end: number) => boolean {
  AUTHORITY_END.lastIndex = bodyAt;
  const authEnd = AUTHORITY_END.exec(text)?.index ?? text.length;
  // The authority's colon (Infinity: none), and the first character after it that is no
  // digit (an authority ends at no digit, so the run stops there at the latest).
  const found = text.slice(bodyAt, authEnd).indexOf(":");
  const colon = found === -1 ? Infinity : bodyAt + found;
  let nonDigit = colon + 1;
  while (isDigit(text.charCodeAt(nonDigit))) nonDigit++;
  return (end) => {
    const authorityEnd = Math.min(authEnd, end);
    // Open: the colon stands right at the authority's end ("u:"), or a character that is no
    // digit stands after it within the authority (digits alone are a port). Both put the
    // colon inside the authority; with no colon (Infinity) neither holds.
    return colon + 1 === authorityEnd || nonDigit < authorityEnd;
  };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Masks the userinfo password at the start of `body` (the text after `scheme://`). */
function maskBody(body: string): string {
  const atPos = body.lastIndexOf("@");
  const userinfo = body.slice(0, atPos);
  const colon = userinfo.indexOf(":");
  // No colon: a user alone, no password. A "/" before the colon: the "@" is in a path.
  if (colon === -1 || userinfo.slice(0, colon).includes("/")) return body;
  return userinfo.slice(0, colon + 1) + MASK + body.slice(atPos);
}

/**
 * Masks a bare `user:password@host` standing alone (start of a token, or after a quote, "=",
 * "(", "," or ";"): the password runs to the token's LAST "@". One pass per token.
 */
function maskBare(text: string): string {
  let out = "", from = 0;
  for (const m of text.matchAll(TOKEN)) {
    const token = m[0];
    const colon = bareColon(token, token.lastIndexOf("@"));
    if (colon === -1) continue;
    out += text.slice(from, m.index + colon + 1) + MASK;
    from = m.index + token.lastIndexOf("@");
  }
  return out + text.slice(from);
}

function isUserChar(c: number): boolean {
  // [A-Za-z0-9._~-]
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 ||
    c === 95 || c === 126 || c === 45;
}

/** The colon of the first bare `user:` in `token` before `lastAt`, not `user://`; or -1. */
function bareColon(token: string, lastAt: number): number {
  for (let s = 0; s < lastAt;) {
    if (s > 0 && !BARE_PREFIX.includes(token[s - 1]!)) {
      s++;
      continue;
    }
    let c = s;
    // A run of user characters stops at the "@" at the latest.
    while (isUserChar(token.charCodeAt(c))) c++;
    if (c > s && token[c] === ":" && !token.startsWith("//", c + 1)) return c;
    // User characters are never prefix characters: the next candidate lies past this run.
    s = Math.max(c, s + 1);
  }
  return -1;
}
