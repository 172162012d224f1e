/**
 * Credential masking for broker URLs, by the userinfo pattern rather than a URL parser: a
 * parser fails on passwords holding `/`, `?`, `#`, spaces or `%` escapes and would let them
 * out unmasked.
 *
 * @module
 */

/** The replacement for a password. */
export const MASK = "****";

// A scheme we mask, in any letter case, then "://". The scheme must not be the tail of a
// longer word ("xmqtt://" is not "mqtt://").
const SCHEME = /(?<![A-Za-z0-9+.-])(mqtts?|tcp|ssl|wss?):\/\//gi;
// What may start a host right after the userinfo's "@".
const HOST_START = /[A-Za-z0-9[._-]/;

/**
 * Replaces the password of every `scheme://user:password@host` in `text` with `****`,
 * keeping the user. The userinfo ends at the last `@` before the host, so a password may
 * itself hold `@`; a URL's span ends at the next masked scheme or line break. A URL without
 * a password, or text without such a URL, comes back unchanged.
 *
 * @example
 * ```ts
 * import { maskCredentials } from "./mask.ts";
 * maskCredentials("mqtt://u:p@ss@host:1883"); // "mqtt://u:****@host:1883"
 * maskCredentials("mqtt://broker:1883"); // "mqtt://broker:1883"
 * ```
 */
export function maskCredentials(text: string): string {
  if (!text.includes("://")) return text;
  const starts: { at: number; bodyAt: number }[] = [];
  for (const m of text.matchAll(SCHEME)) {
    starts.push({ at: m.index, bodyAt: m.index + m[0].length });
  }
  if (starts.length === 0) return text;
  let out = text.slice(0, starts[0]!.at);
  for (let i = 0; i < starts.length;) {
    const { at, bodyAt } = starts[i]!;
    let j = i + 1;
    const endOf = (k: number) => (k < starts.length ? starts[k]!.at : text.length);
    let masked = maskBody(text.slice(bodyAt, endOf(j)));
    // A password may itself hold " ws://": while this URL's userinfo is still open (a colon
    // not followed by a port) and no "@" closed it, the next "scheme://" is part of it.
    while (masked === null && j < starts.length && opensUserinfo(text.slice(bodyAt, endOf(j)))) {
      j++;
      masked = maskBody(text.slice(bodyAt, endOf(j)));
    }
    out += text.slice(at, bodyAt) + (masked ?? text.slice(bodyAt, endOf(j)));
    i = j;
  }
  return out;
}

/** True when `body` starts like `user:secret` (not `host:port`) on one line, with no "@" yet. */
function opensUserinfo(body: string): boolean {
  if (/[\r\n]/.test(body)) return false;
  const authority = body.split(/[\s/?#]/, 1)[0]!;
  const colon = authority.indexOf(":");
  return colon !== -1 && !/^\d*$/.test(authority.slice(colon + 1));
}

/**
 * Masks the userinfo password at the start of `body` (the text after `scheme://`); `null`
 * when its first line has no userinfo "@" at all.
 */
function maskBody(body: string): string | null {
  const lineEnd = body.search(/[\r\n]/);
  const span = lineEnd === -1 ? body : body.slice(0, lineEnd);
  const rest = lineEnd === -1 ? "" : body.slice(lineEnd);
  let atPos = -1;
  for (let i = span.length - 1; i >= 0; i--) {
    if (span[i] === "@" && HOST_START.test(span[i + 1] ?? "")) {
      atPos = i;
      break;
    }
  }
  if (atPos === -1) return null;
  const userinfo = span.slice(0, atPos);
  const colon = userinfo.indexOf(":");
  if (colon === -1) return body; // user only, no password
  return userinfo.slice(0, colon + 1) + MASK + span.slice(atPos) + rest;
}
