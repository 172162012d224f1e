/**
 * POSIX paths without the Node compatibility layer (`node:path` would load it into the
 * `permissions` command that runs before every start): absolute or not, normalized, resolved
 * against the working directory. Pure but {@linkcode resolve}, which asks for the directory.
 *
 * @module
 */

/**
 * Whether `p` is absolute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAbsolute } from "./paths.ts";
 * assert.equal(isAbsolute("/tmp/s.json"), true);
 * assert.equal(isAbsolute("run/s.json"), false);
 * ```
 */
export function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/**
 * `p` with `.` and `..` segments and repeated slashes resolved, without a trailing slash
 * (but `/` itself); a relative path keeps leading `..` it cannot resolve.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalize } from "./paths.ts";
 * assert.equal(normalize("/var//lib/./m.db"), "/var/lib/m.db");
 * assert.equal(normalize("/a/b/../../../c"), "/c");
 * assert.equal(normalize("./data/../m.db"), "m.db");
 * assert.equal(normalize("../x/"), "../x");
 * ```
 */
export function normalize(p: string): string {
  const abs = isAbsolute(p);
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out.at(-1) !== "..") out.pop();
      else if (!abs) out.push("..");
    } else out.push(seg);
  }
  const joined = out.join("/");
  return abs ? `/${joined}` : joined === "" ? "." : joined;
}

/**
 * `p` as an absolute, normalized path: relative ones against `cwd` (default: the working
 * directory, which needs a read grant on it, and throws without one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolve } from "./paths.ts";
 * assert.equal(resolve("run/s.json", () => "/srv"), "/srv/run/s.json");
 * assert.equal(resolve("/etc/c.json", () => "/srv"), "/etc/c.json");
 * ```
 */
export function resolve(p: string, cwd: () => string = Deno.cwd): string {
  return normalize(isAbsolute(p) ? p : `${cwd()}/${p}`);
}
