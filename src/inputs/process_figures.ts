/**
 * This process's own figures in the names every Prometheus client library exports
 * (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_start_time_seconds`,
 * `process_open_fds`, `process_max_fds`). The two descriptor figures come from the bound
 * `/proc/self` directory (the unit binds it outside /proc, where Deno may read it with a
 * scoped grant); where it cannot be read they are absent, never made up.
 *
 * @module
 */

import process from "node:process";

/** The figures; the descriptor counts only when they could be read. */
export interface ProcessFigures {
  cpuSeconds: number;
  residentBytes: number;
  startTimeSeconds: number;
  openFds?: number;
  maxFds?: number;
}

/**
 * The soft "Max open files" limit in a `/proc/<pid>/limits` text, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMaxFds } from "./process_figures.ts";
 * const text = "Limit                     Soft Limit           Hard Limit           Units\n" +
 *   "Max open files            4096                 524288               files\n";
 * assert.equal(parseMaxFds(text), 4096);
 * ```
 */
export function parseMaxFds(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return undefined;
  return m[1] === "unlimited" ? undefined : Number(m[1]);
}

/** Reads the figures now; `dir` is the bound `/proc/self` directory, when there is one. */
export function readProcessFigures(startedAtMs: number, dir: string | undefined): ProcessFigures {
  const cpu = process.cpuUsage();
  const out: ProcessFigures = {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: Deno.memoryUsage().rss,
    startTimeSeconds: Math.floor(startedAtMs / 1000),
  };
  if (dir === undefined) return out;
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`${dir}/fd`)) n++;
    out.openFds = n;
  } catch {
    // not bound, or not granted: absent
  }
  try {
    const max = parseMaxFds(Deno.readTextFileSync(`${dir}/limits`));
    if (max !== undefined) out.maxFds = max;
  } catch {
    // absent
  }
  return out;
}
