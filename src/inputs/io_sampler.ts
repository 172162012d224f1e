/**
 * This process's own disk I/O rates. A sampler takes counter readings in order, at a fixed
 * rate, and serves the last computed rates: concurrent requests can neither reorder samples
 * nor change the rate window, a failed or empty read is never a "previous" sample, and a
 * counter that goes backwards gives 0, never a negative rate.
 *
 * @module
 */

import process from "node:process";
import type { Logger } from "../base/log.ts";
import { type IoCounters, type IoKey, isUnderProc, parseProcIo } from "./proc_io.ts";
import { readRegularFile, type ReadResult } from "../base/safe_read.ts";

/** Where the counters come from; `none` means every rate is 0 because nothing is readable. */
export type IoSourceKind = "procfs" | "rusage" | "none";

/** A source of cumulative I/O counters. */
export interface IoReader {
  kind: IoSourceKind;
  /**
   * A complete-enough reading, or why there is none: `transient` when the source is there
   * but this one read was no sample (empty, none of the counters), so the next may be.
   */
  read():
    | { ok: true; counters: IoCounters }
    | { ok: false; detail: string; transient?: boolean };
}

/**
 * A source whose reads keep failing (though it is there) for this long is given up for the
 * next one; a read or two that fail in between change nothing.
 */
export const SOURCE_FAIL_MS = 10_000;

/** The response fields of `/api/perf/io` that describe this process. */
export interface IoRates {
  readBytesPerSec: number;
  writeBytesPerSec: number;
  cancelledWriteBytesPerSec: number;
  syscallsRead: number;
  syscallsWrite: number;
  /** Additive: where the counters came from. */
  ioSource: IoSourceKind;
  /** Additive: when the newer sample of the window was taken (RFC 3339), "" before any. */
  sampledAt: string;
  /** Additive: seconds between the two samples the rates come from, 0 before two exist. */
  windowSec: number;
}

const RATE_OF: Record<IoKey, keyof IoRates> = {
  read_bytes: "readBytesPerSec",
  write_bytes: "writeBytesPerSec",
  cancelled_write_bytes: "cancelledWriteBytesPerSec",
  syscr: "syscallsRead",
  syscw: "syscallsWrite",
};

/** The five rates keyed as in the response. */
export type RateFields = Pick<
  IoRates,
  | "readBytesPerSec"
  | "writeBytesPerSec"
  | "cancelledWriteBytesPerSec"
  | "syscallsRead"
  | "syscallsWrite"
>;

/**
 * Per-second rates between two readings `dtSec` apart. Elapsed time is clamped to at least
 * 1 ms; a key missing from either reading, or a counter that went backwards, gives 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeRates } from "./io_sampler.ts";
 * assert.deepEqual(computeRates({ read_bytes: 0n }, { read_bytes: 2048n }, 2).readBytesPerSec, 1024);
 * ```
 */
export function computeRates(prev: IoCounters, cur: IoCounters, dtSec: number): RateFields {
  const dt = Math.max(dtSec, 0.001);
  const out: RateFields = {
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    cancelledWriteBytesPerSec: 0,
    syscallsRead: 0,
    syscallsWrite: 0,
  };
  for (const [key, field] of Object.entries(RATE_OF) as [IoKey, keyof RateFields][]) {
    const a = prev[key], b = cur[key];
    if (a === undefined || b === undefined || b < a) continue;
    out[field] = Number(b - a) / dt;
  }
  return out;
}

/** Whether this process may read `path` without asking; a query is not an access. */
function readGranted(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Reads counters from a procfs-format file (the bind-mounted `/proc/<pid>/io`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { procfsReader } from "./io_sampler.ts";
 * const r = procfsReader("/nonexistent/self/io").read();
 * assert.equal(r.ok, false);
 * ```
 */
export function procfsReader(
  path: string,
  read: (path: string, max: number) => ReadResult = readRegularFile,
): IoReader {
  const decoder = new TextDecoder();
  return {
    kind: "procfs",
    read() {
      if (isUnderProc(path) && !readGranted(path)) {
        return {
          ok: false,
          detail: `${path} is under /proc, which Deno reads only with --allow-all; ` +
            "bind-mount /proc/self (the directory) outside /proc and set procIoPath to its io (see README)",
        };
      }
      const r = read(path, 64 * 1024);
      if (!r.ok) return { ok: false, detail: r.failure.detail };
      const parsed = parseProcIo(decoder.decode(r.bytes));
      if (!parsed.ok) {
        return { ok: false, detail: `${path} has none of the I/O counters`, transient: true };
      }
      return { ok: true, counters: parsed.counters };
    },
  };
}

/** The part of `process.resourceUsage()` this service uses. */
export interface Rusage {
  fsRead: number;
  fsWrite: number;
}

/**
 * Reads counters from getrusage: block input/output operations times 512 bytes. Syscall
 * and cancelled-write counts are not known this way, so their rates stay 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rusageReader } from "./io_sampler.ts";
 * const r = rusageReader().read();
 * assert.deepEqual(r.ok && typeof r.counters.read_bytes, "bigint");
 * ```
 */
export function rusageReader(usage: () => Rusage = () => process.resourceUsage()): IoReader {
  return {
    kind: "rusage",
    read() {
      try {
        const u = usage();
        return {
          ok: true,
          counters: { read_bytes: BigInt(u.fsRead) * 512n, write_bytes: BigInt(u.fsWrite) * 512n },
        };
      } catch (err) {
        return { ok: false, detail: `getrusage failed: ${(err as Error)?.message ?? err}` };
      }
    },
  };
}

/** A reader that never has data; `ioSource: "none"`. */
export const noneReader: IoReader = {
  kind: "none",
  read: () => ({ ok: false, detail: "no I/O counter source is readable" }),
};

/**
 * Picks the first reader that works now, in order, and logs the choice once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseIoReader, procfsReader, rusageReader } from "./io_sampler.ts";
 * import { silentLogger } from "../base/log.ts";
 * const reader = chooseIoReader([procfsReader("/nonexistent"), rusageReader()], silentLogger);
 * assert.equal(reader.kind, "rusage");
 * ```
 */
export function chooseIoReader(candidates: IoReader[], log: Logger): IoReader {
  return choose(candidates, log).reader;
}

/** The first reader that works, with the reading that showed it. */
function choose(
  candidates: IoReader[],
  log: Logger,
): { reader: IoReader; reading?: ReturnType<IoReader["read"]> } {
  const reasons: string[] = [];
  for (const reader of candidates) {
    const r = reader.read();
    if (r.ok) {
      const why = reasons.length ? ` (${reasons.join("; ")})` : "";
      log.log(reasons.length ? "warn" : "info", "io_source", `using ${reader.kind}${why}`);
      return { reader, reading: r };
    }
    reasons.push(`${reader.kind}: ${r.detail}`);
  }
  log.log("warn", "io_source", `no I/O counters available: ${reasons.join("; ")}`);
  return { reader: noneReader };
}

/** The rates after a good reading `cur` (the first one only stamps `sampledAt`). */
function advance(
  current: IoRates,
  prev: { counters: IoCounters; mono: number } | undefined,
  cur: { counters: IoCounters; mono: number },
  ioSource: IoSourceKind,
  wallMs: number,
): IoRates {
  const sampledAt = new Date(wallMs).toISOString();
  if (!prev) return { ...current, sampledAt };
  const dtSec = (cur.mono - prev.mono) / 1000;
  return {
    ...computeRates(prev.counters, cur.counters, dtSec),
    ioSource,
    sampledAt,
    windowSec: Math.max(dtSec, 0.001),
  };
}

/** Rates of a window that has not begun: zeros, no sample time. */
function zeroRates(ioSource: IoSourceKind): IoRates {
  return { ...computeRates({}, {}, 1), ioSource, sampledAt: "", windowSec: 0 };
}

/** The sampler. */
export interface IoSampler {
  /** Takes one reading now and updates the rates if it is good. */
  sample(): void;
  /** The last computed rates. */
  rates(): IoRates;
  /** The raw counters of the last good reading (empty before one). */
  counters(): IoCounters;
  /** Samples every `intervalMs` until {@linkcode IoSampler.stop}. */
  start(intervalMs: number): void;
  stop(): void;
}

/** Dependencies of {@linkcode createIoSampler}. */
export interface IoSamplerOptions {
  /** Counter sources, best first (procfs, then rusage). */
  readers: IoReader[];
  log: Logger;
  /** Wall clock (ms) for `sampledAt`. */
  now?: () => number;
  /** Monotonic clock (ms) for elapsed time: wall clock jumps must not skew rates. */
  mono?: () => number;
  /** While on a fallback, how often a better reader is tried again (ms). */
  retryMs?: number;
}

/**
 * Creates a sampler. It starts on the best reader that works. A read that is no sample
 * (empty, none of the counters) changes nothing: the last good rates are served, and the next
 * good read is compared with the last good one. When the source is gone or refused, or its
 * reads have failed for {@linkcode SOURCE_FAIL_MS}, the sampler moves to the next reader that
 * works, and while on a fallback it tries the better ones again every `retryMs` (a bind mount
 * that appears late, a transient EACCES). Each switch is logged and starts the rate window
 * again: counters of two sources are never differenced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createIoSampler, rusageReader } from "./io_sampler.ts";
 * import { silentLogger } from "../base/log.ts";
 * const s = createIoSampler({ readers: [rusageReader()], log: silentLogger });
 * s.sample();
 * assert.equal(s.rates().readBytesPerSec, 0); // the first sample yields zeros
 * ```
 */
export function createIoSampler(opts: IoSamplerOptions): IoSampler {
  const { readers, log } = opts;
  const now = opts.now ?? Date.now;
  const mono = opts.mono ?? (() => performance.now());
  const retryMs = opts.retryMs ?? 60_000;
  // Chosen at the first sample, whose reading is the chooser's: a reading is never wasted.
  let reader: IoReader | undefined;
  let triedAt = mono();
  // Since when the current reader's reads have failed (undefined: the last one was good).
  let failingSince: number | undefined;
  let prev: { counters: IoCounters; mono: number } | undefined;
  let current = zeroRates(readers[0]?.kind ?? "none");
  let timer: ReturnType<typeof setInterval> | undefined;

  /** Moves to the first of `candidates` that reads now; the rate window starts again. */
  function switchTo(from: IoReader, candidates: IoReader[], why: string): void {
    const next = candidates.find((r) => r !== from && r.read().ok);
    if (!next) return;
    log.log(
      next.kind === "procfs" ? "info" : "warn",
      "io_source",
      `${from.kind} → ${next.kind} (${why})`,
    );
    reader = next;
    prev = undefined;
    current = zeroRates(next.kind);
  }

  function sample(): void {
    const t = mono();
    let first: ReturnType<IoReader["read"]> | undefined;
    if (reader === undefined) {
      ({ reader, reading: first } = choose(readers, log));
      current = { ...current, ioSource: reader.kind };
      triedAt = t;
    } else {
      const rank = readers.indexOf(reader);
      if (rank !== 0 && t - triedAt >= retryMs) {
        triedAt = t;
        switchTo(reader, rank === -1 ? readers : readers.slice(0, rank), "retried");
      }
    }
    if (reader.kind === "none") return;
    const r = first ?? reader.read();
    if (!r.ok) {
      log.condition("proc_io", `${reader.kind} read failed: ${r.detail}`);
      failingSince ??= t;
      // One bad read is not a switch: keep the last good sample while the source is there.
      if (r.transient && t - failingSince < SOURCE_FAIL_MS) return;
      triedAt = t;
      failingSince = undefined;
      switchTo(reader, readers.slice(readers.indexOf(reader) + 1), r.detail);
      return;
    }
    failingSince = undefined;
    log.condition("proc_io", undefined);
    current = advance(current, prev, { counters: r.counters, mono: t }, reader.kind, now());
    prev = { counters: r.counters, mono: t };
  }
  return {
    sample,
    rates: () => current,
    counters: () => prev?.counters ?? {},
    start(intervalMs: number) {
      if (timer !== undefined) return;
      sample();
      Deno.unrefTimer(timer = setInterval(sample, intervalMs));
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
