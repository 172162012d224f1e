/**
 * The free space of the filesystem that holds the database: `statfs(2)` on the database file
 * itself (node:fs `statfsSync`, which Deno allows under `--allow-read` of that path plus
 * `--allow-sys=statfs`). One call a second, no file opened.
 *
 * @module
 */

import { statfsSync } from "node:fs";

/** One reading, or why there is none. */
export type DiskReading =
  | {
    ok: true;
    /** Bytes an unprivileged writer may still use (`f_bavail`): root's reserve not counted. */
    freeBytes: number;
    /** Bytes of the whole filesystem (`f_blocks`). */
    sizeBytes: number;
  }
  | { ok: false; detail: string };

/** The statfs call, injectable for tests. */
export type Statfs = (path: string) => { bsize: number; blocks: number; bavail: number };

/**
 * Reads the filesystem of `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDiskSpace } from "./disk_space.ts";
 * const fake = () => ({ bsize: 4096, blocks: 1000, bavail: 250 });
 * assert.deepEqual(readDiskSpace("/data/m.db", fake), {
 *   ok: true,
 *   freeBytes: 1_024_000,
 *   sizeBytes: 4_096_000,
 * });
 * assert.equal(readDiskSpace("/nonexistent/m.db").ok, false);
 * ```
 */
export function readDiskSpace(path: string, statfs: Statfs = statfsSync): DiskReading {
  try {
    const s = statfs(path);
    return { ok: true, freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
  } catch (err) {
    const e = err as Error & { code?: string };
    const detail = e?.name === "NotCapable"
      ? `${path}: statfs not granted (--allow-sys=statfs)`
      : `${path}: statfs failed (${e?.code ?? e?.name ?? "error"})`;
    return { ok: false, detail };
  }
}
