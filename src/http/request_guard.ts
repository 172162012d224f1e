/**
 * What every request must pass before any route sees it: the authority it is addressed to
 * (its `Host`, for HTTP/2 its `:authority`, for an absolute-form target the target's: what
 * Deno builds the request URL from) well formed and one this service answers to (DNS
 * rebinding: a page that rebinds its own name to this address sends that name); a declared
 * body within its bound. Judged from the URL Deno already built, with no header read for
 * GET, HEAD and OPTIONS: the guard runs on every request, so it costs what it must and no
 * more (reading `Host` on its own cost 0.8 µs a request, a twentieth of a whole answer).
 *
 * @module
 */

/** No endpoint reads a body: a declared body larger than this is refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Why a request was refused: its status and the error its JSON body names. */
export interface Refusal {
  status: 400 | 413 | 421;
  error: string;
}

/** Host values whose verdict is remembered at most (a client may send any number of them). */
export const HOST_MEMO_SIZE = 64;

// `host[:port]`: a bracketed IPv6 literal, or a name or IPv4 address of the characters DNS
// and container names use; a port of 1-5 digits. Anchored, no nested repetition: linear.
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/;

/**
 * The host name of a `Host` value (lower-cased, IPv6 in brackets, no port), or `undefined`
 * when the value is not strictly `host[:port]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostName } from "./request_guard.ts";
 * assert.equal(hostName("LocalHost:8080"), "localhost");
 * assert.equal(hostName("[::1]:8080"), "[::1]");
 * assert.equal(hostName("localhost:80@evil"), undefined);
 * assert.equal(hostName("[::1]evil.example"), undefined);
 * assert.equal(hostName("localhost:1, evil"), undefined);
 * ```
 */
export function hostName(value: string): string | undefined {
  const m = HOST.exec(value.toLowerCase());
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return undefined;
  return m[1];
}

/**
 * The authority of a request URL as Deno builds it (`http://AUTHORITY/path`): from the
 * `Host` header for an origin-form target, from the target itself for an absolute-form one,
 * from `:authority` over HTTP/2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authorityOf } from "./request_guard.ts";
 * assert.equal(authorityOf("http://127.0.0.1:8080/api/healthz?x"), "127.0.0.1:8080");
 * ```
 */
export function authorityOf(url: string): string {
  const start = url.indexOf("//") + 2;
  const end = url.indexOf("/", start);
  return url.slice(start, end === -1 ? url.length : end);
}

/** A declared body length: one number (repeated identical values are one), else NaN. */
function declaredLength(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const parts = v.split(",").map((p) => p.trim());
  return parts.every((p) => p === parts[0] && /^\d+$/.test(p)) ? Number(parts[0]) : NaN;
}

/**
 * Creates the guard for the host names in `allowedHosts` (empty: any well-formed name). It
 * returns `undefined` for a request that may go on, else why not:
 * - 400 when the authority is not strictly `host[:port]`;
 * - 421 when it names a host not allowed;
 * - 413 for a declared body over {@linkcode MAX_BODY_BYTES} (on a method that has a body).
 * The head itself is Deno's to bound: it answers 431 or 400 past about 64 KiB, before any
 * handler (reading every header here to count them would cost more than the whole answer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRequestGuard } from "./request_guard.ts";
 * const guard = createRequestGuard(["localhost"]);
 * assert.equal(guard(new Request("http://localhost:8080/")), undefined);
 * assert.equal(guard(new Request("http://evil.example/"))?.status, 421);
 * assert.equal(guard(new Request("http://localhost:80@evil/"))?.status, 400);
 * ```
 */
export function createRequestGuard(
  allowedHosts: readonly string[],
  /** The memory of verdicts by authority, at most 64 of them (tests pass one to watch it). */
  verdicts: Map<string, Refusal | undefined> = new Map(),
): (req: Request) => Refusal | undefined {
  const allowed = new Set(allowedHosts);
  // The verdict on an authority depends on nothing else: the few values real clients send
  // are judged once (a Map lookup instead of a lower-case and a pattern per request).
  const judge = (authority: string): Refusal | undefined => {
    const name = hostName(authority);
    if (name === undefined) return { status: 400, error: "malformed Host: not host[:port]" };
    if (allowed.size > 0 && !allowed.has(name)) {
      return { status: 421, error: "unknown Host: name this service by an allowed host" };
    }
    return undefined;
  };
  // The last authority and its verdict: a client sends the same one request after request,
  // and comparing it is cheaper than hashing it for the map.
  let lastAuthority: string | undefined, lastVerdict: Refusal | undefined;
  return (req) => {
    const authority = authorityOf(req.url);
    let verdict: Refusal | undefined;
    if (authority === lastAuthority) verdict = lastVerdict;
    else {
      verdict = verdicts.get(authority);
      if (verdict === undefined && !verdicts.has(authority)) {
        if (verdicts.size >= HOST_MEMO_SIZE) verdicts.clear();
        verdicts.set(authority, verdict = judge(authority));
      }
      lastAuthority = authority;
      lastVerdict = verdict;
    }
    if (verdict !== undefined) return verdict;
    // A body is declared where one belongs; GET, HEAD and OPTIONS bodies are never read.
    const method = req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return undefined;
    const length = req.headers.get("content-length");
    if (length !== null && !(declaredLength(length) <= MAX_BODY_BYTES)) {
      return { status: 413, error: `request body over ${MAX_BODY_BYTES} bytes` };
    }
    return undefined;
  };
}

/**
 * The path of a request URL without parsing it (`http://host:port/path?query`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathOf } from "./request_guard.ts";
 * assert.equal(pathOf("http://127.0.0.1:8080/api/healthz?x=1"), "/api/healthz");
 * assert.equal(pathOf("http://h"), "/");
 * ```
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  // The path ends at the first "?" or "#", whichever comes first.
  let end = start;
  while (end < url.length && url[end] !== "?" && url[end] !== "#") end++;
  return url.slice(start, end);
}
