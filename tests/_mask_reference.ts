/**
 * The regex masking of release 0.1.0, kept only as an oracle: the linear masking in
 * `src/base/mask.ts` must give the same answer on every input (it was quadratic, not wrong).
 *
 * @module
 */

const MASK = "****";
const SCHEME = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;
// `user:password@host` with no scheme, standing alone (start of text, after white space, a
// quote, "=" or "("): the password runs to the last "@" before white space.
const BARE = /(^|[\s"'=(,;])([A-Za-z0-9._~-]+):(?!\/\/)(\S*)@(?=[^\s@]*$|[^\s@]*\s)/g;
// `password=...` (and its usual spellings) in a query string or a key=value list.
const QUERY = /\b(password|passwd|pwd|pass|secret|token|api_?key)=([^&\s#;"']+)/gi;

export function referenceMask(text: string): string {
  let out = text.includes("://") ? maskUrls(text) : text;
  if (out.includes("@")) out = out.replace(BARE, (_m, pre, user) => `${pre}${user}:${MASK}@`);
  if (out.includes("=")) out = out.replace(QUERY, (_m, key) => `${key}=${MASK}`);
  return out;
}

function maskUrls(text: string): string {
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

/** True when `body` starts like `user:secret` (not `host:port`), with no "@" yet. */
function opensUserinfo(body: string): boolean {
  const authority = body.split(/[\s/?#]/, 1)[0]!;
  const colon = authority.indexOf(":");
  return colon !== -1 && !/^\d+$/.test(authority.slice(colon + 1));
}

/**
 * Masks the userinfo password at the start of `body` (the text after `scheme://`); `null`
 * when `body` has no "@" at all.
 */
function maskBody(body: string): string | null {
  const atPos = body.lastIndexOf("@");
  if (atPos === -1) return null;
  const userinfo = body.slice(0, atPos);
  const colon = userinfo.indexOf(":");
  // No colon: a user alone, no password. A "/" before the colon: the "@" is in a path.
  if (colon === -1 || userinfo.slice(0, colon).includes("/")) return body;
  return userinfo.slice(0, colon + 1) + MASK + body.slice(atPos);
}
