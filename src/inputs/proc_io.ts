/**
 * Parser for the Linux `/proc/<pid>/io` format. Pure: text in, counters out.
 *
 * @module
 */

/** The five counters this service reads from `/proc/<pid>/io`. */
export const IO_KEYS = [
  "read_bytes",
  "write_bytes",
  "cancelled_write_bytes",
  "syscr",
  "syscw",
] as const;

/** One of {@linkcode IO_KEYS}. */
export type IoKey = typeof IO_KEYS[number];

/** Counter values by key; a key absent from the input is absent here. */
export type IoCounters = Partial<Record<IoKey, bigint>>;

/** Result of {@linkcode parseProcIo}. */
export interface ProcIoParse {
  /** The recognised counters that parsed. */
  counters: IoCounters;
  /** True when at least one of the five keys parsed: only then is this a sample. */
  ok: boolean;
}

const U64_MAX = (1n << 64n) - 1n;
const KNOWN = new Set<string>(IO_KEYS);

/**
 * Parses `key: value` lines. Unknown keys and malformed lines are ignored; values
 * must be unsigned decimal integers that fit in 64 bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcIo } from "./proc_io.ts";
 * assert.deepEqual(parseProcIo("rchar: 1\nread_bytes: 4096\nsyscw: 7\n"), {
 *   ok: true,
 *   counters: { read_bytes: 4096n, syscw: 7n },
 * });
 * ```
 */
export function parseProcIo(text: string): ProcIoParse {
  const counters: IoCounters = {};
  let ok = false;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (!KNOWN.has(key)) continue;
    const raw = line.slice(colon + 1).trim();
    // Digits only (no sign, no exponent), at most 20 of them: u64 fits in 20.
    if (!/^[0-9]{1,20}$/.test(raw)) continue;
    const value = BigInt(raw);
    if (value > U64_MAX) continue;
    counters[key as IoKey] = value;
    ok = true;
  }
  return { counters, ok };
}

/**
 * Whether `path` is under /proc, which Deno reads only with `--allow-all`: the service never
 * asks for that, so it never even tries such a path (an attempt would show in a permission
 * audit as an access outside the grants).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnderProc } from "./proc_io.ts";
 * assert.deepEqual(isUnderProc("/proc/self/io"), true);
 * assert.deepEqual(isUnderProc("/run/corescope-perf/self/io"), false);
 * ```
 */
export function isUnderProc(path: string): boolean {
  return path === "/proc" || path.startsWith("/proc/");
}

/**
 * The bound `/proc/self` directory `procIoPath` names (its `io` file's directory), or
 * `undefined` when it is under /proc itself (Deno reads there only with `--allow-all`) or is
 * not an `io` file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { procSelfDir } from "./proc_io.ts";
 * assert.equal(procSelfDir("/run/corescope-perf/self/io"), "/run/corescope-perf/self");
 * assert.equal(procSelfDir("/proc/self/io"), undefined);
 * ```
 */
export function procSelfDir(procIoPath: string): string | undefined {
  if (isUnderProc(procIoPath) || !procIoPath.endsWith("/io")) return undefined;
  return procIoPath.slice(0, -3);
}
