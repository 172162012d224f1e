/**
 * Reading a file that sits in a directory others may write (the stats file lives in /tmp):
 * regular files only, never through a symlink, never blocking on a FIFO, never more than a
 * bound. Deno checks a symlink's own path, not its target, so following one would read
 * outside the granted paths.
 *
 * @module
 */

import * as fs from "node:fs";

/**
 * Identity of one version of a file: a rename gives a new inode, an edit a new size or mtime.
 * (A reader that keeps a version's file open keeps its inode from being reused, so a new
 * version by rename never shows an old identity, however fast it comes.)
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  /** Milliseconds, as the runtime gives them. */
  mtimeMs: number;
}

/** Why a read was refused or failed. Each is a distinct, named failure mode. */
export type ReadFailureKind =
  | "missing"
  | "symlink"
  | "not_regular"
  | "too_large"
  | "changed"
  | "permission"
  | "io_error";

/** A failed read: what kind, and a sentence for the log. */
export interface ReadFailure {
  kind: ReadFailureKind;
  detail: string;
}

/** What {@linkcode readRegularFile} returns. */
export type ReadResult =
  | {
    ok: true;
    bytes: Uint8Array;
    identity: FileIdentity;
    /** The still-open descriptor, only when asked for with `keepOpen`; the caller closes it. */
    fd?: number;
  }
  | { ok: false; failure: ReadFailure };

/** What {@linkcode probeFile} returns: the identity of a regular file, or why there is none. */
export type ProbeResult =
  | { ok: true; identity: FileIdentity }
  | { ok: false; failure: ReadFailure };

/**
 * A version whose mtime is this close to when it was read (or later) is racy, as git calls an
 * index entry written in its file's own mtime tick: a next version could have the same inode,
 * size and mtime within the same tick (the kernel stamps mtimes from a coarse clock, up to
 * 10 ms behind), so its identity alone cannot tell them apart. A reader that caches by
 * identity trusts a racy reading only until this much time has passed (the stats cache keeps
 * a racy version open meanwhile, so its inode cannot be reused; the WAL's header is read again).
 */
export const RACY_MS = 50;

const { O_RDONLY, O_NONBLOCK } = fs.constants;

/**
 * A string key for an identity, equal for equal identities.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { identityKey } from "./safe_read.ts";
 * assert.deepEqual(identityKey({ dev: 1, ino: 2, size: 3, mtimeMs: 4 }), "1:2:3:4");
 * ```
 */
export function identityKey(id: FileIdentity): string {
  return `${id.dev}:${id.ino}:${id.size}:${id.mtimeMs}`;
}

/** What kind of thing a path is, for a refusal's sentence. */
function kindOf(st: Deno.FileInfo | fs.Stats): string {
  const info = st as Partial<Deno.FileInfo>;
  if (info.isSymlink ?? (st as fs.Stats).isSymbolicLink?.()) return "symlink";
  if (typeof st.isDirectory === "function" ? st.isDirectory() : st.isDirectory) {
    return "directory";
  }
  if (info.isFifo ?? (st as fs.Stats).isFIFO?.()) return "FIFO";
  if (info.isSocket ?? (st as fs.Stats).isSocket?.()) return "socket";
  const dev = info.isCharDevice ?? (st as fs.Stats).isCharacterDevice?.();
  if (dev || (info.isBlockDevice ?? (st as fs.Stats).isBlockDevice?.())) return "device";
  return "special file";
}

/**
 * Maps a thrown error to a named failure; never rethrows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureFromError } from "./safe_read.ts";
 * assert.deepEqual(failureFromError("/x", Object.assign(new Error("gone"), { code: "ENOENT" })).kind, "missing");
 * ```
 */
export function failureFromError(path: string, err: unknown): ReadFailure {
  const code = (err as { code?: string })?.code;
  const name = (err as { name?: string })?.name;
  if (code === "ENOENT" || code === "ENOTDIR" || name === "NotFound") {
    return { kind: "missing", detail: `${path} does not exist` };
  }
  if (
    code === "EACCES" || code === "EPERM" || name === "NotCapable" || name === "PermissionDenied"
  ) {
    return { kind: "permission", detail: `${path}: permission denied` };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { kind: "io_error", detail: `${path}: ${msg}` };
}

/**
 * Stats a path without following symlinks and returns its identity when it is a regular
 * file. Cheap: one lstat, no open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeFile } from "./safe_read.ts";
 * const p = probeFile("/nonexistent");
 * assert.deepEqual(p.ok ? "file" : p.failure.kind, "missing");
 * ```
 */
export function probeFile(path: string): ProbeResult {
  let st: Deno.FileInfo;
  try {
    // The runtime's own lstat: half the cost of node:fs's with BigInts, and no conversion.
    st = Deno.lstatSync(path);
  } catch (err) {
    return { ok: false, failure: failureFromError(path, err) };
  }
  if (st.isSymlink) {
    return { ok: false, failure: { kind: "symlink", detail: `${path} is a symlink: refused` } };
  }
  if (!st.isFile) {
    return {
      ok: false,
      failure: { kind: "not_regular", detail: `${path} is a ${kindOf(st)}, not a regular file` },
    };
  }
  return {
    ok: true,
    identity: { dev: st.dev, ino: st.ino ?? 0, size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 },
  };
}

/**
 * Reads a whole regular file of at most `maxBytes`, refusing symlinks, FIFOs, directories
 * and devices. The file is opened non-blocking and the opened inode is
 * checked against the lstat one, so a swap between the two cannot redirect the read.
 * Files whose stat size is 0 (procfs) are read to EOF, still bounded by `maxBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRegularFile } from "./safe_read.ts";
 * const r = readRegularFile("/nonexistent", 1 << 20);
 * assert.deepEqual(r.ok ? r.bytes.length : r.failure.kind, "missing");
 * ```
 */
export function readRegularFile(
  path: string,
  maxBytes: number,
  opts: { keepOpen?: boolean; probe?: ProbeResult } = {},
): ReadResult {
  return withVerifiedFd(
    path,
    (fd, st, identity) => {
      if (st.size > maxBytes) return tooLarge(path, maxBytes);
      const hint = st.size === 0 ? 4096 : st.size + 1;
      // One byte more than allowed tells "exactly at the limit" from "over it".
      let chunk = new Uint8Array(Math.min(maxBytes + 1, hint));
      let total = 0;
      for (;;) {
        if (total === chunk.length) {
          if (chunk.length > maxBytes) return tooLarge(path, maxBytes);
          const grown = new Uint8Array(Math.min(maxBytes + 1, chunk.length * 2));
          grown.set(chunk);
          chunk = grown;
        }
        const n = fs.readSync(fd, chunk, total, chunk.length - total, null);
        if (n === 0) break;
        total += n;
      }
      if (total > maxBytes) return tooLarge(path, maxBytes);
      const after = fs.fstatSync(fd);
      if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) {
        return {
          ok: false,
          failure: { kind: "changed", detail: `${path} was modified while being read` },
        };
      }
      return { ok: true, bytes: chunk.subarray(0, total), identity };
    },
    { maxBytes, keepOpen: opts.keepOpen, probe: opts.probe },
  );
}

/**
 * Reads at most the first `n` bytes of a regular file, with the same refusals as
 * {@linkcode readRegularFile} (no symlink, no FIFO) but no size bound on the file itself.
 * `probe`: the caller's lstat of it, when it has just taken one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileHead } from "./safe_read.ts";
 * const r = readFileHead("/nonexistent", 100);
 * assert.deepEqual(r.ok ? r.bytes.length : r.failure.kind, "missing");
 * ```
 */
export function readFileHead(path: string, n: number, probe?: ProbeResult): ReadResult {
  return withVerifiedFd(path, (fd, _st, identity) => ({
    ok: true,
    bytes: readAt(fd, 0, n),
    identity,
  }), { probe });
}

/**
 * {@linkcode readFileHead} of one file, kept while the file is unchanged: the last good
 * reading is handed out again while the file's identity (the caller's lstat of it) is the one
 * it was read under, and that identity was already older than {@linkcode RACY_MS} then (a
 * rewrite within the same mtime tick keeps size and mtime). A file rewritten rarely, a
 * database between checkpoints or a WAL's header, then costs its lstat, not an open and reads.
 * A failed reading is not kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headKeeper } from "./safe_read.ts";
 * let reads = 0;
 * const id = { dev: 1, ino: 2, size: 3, mtimeMs: 0 };
 * const head = headKeeper(4, () => 60_000, () => {
 *   reads++;
 *   return { ok: true, bytes: new Uint8Array(4), identity: id };
 * });
 * head("/db", { ok: true, identity: id });
 * head("/db", { ok: true, identity: id });
 * assert.equal(reads, 1);
 * head("/db", { ok: true, identity: { ...id, size: 4 } });
 * assert.equal(reads, 2);
 * ```
 */
export function headKeeper(
  n: number,
  wall: () => number,
  read: (path: string, n: number, probe?: ProbeResult) => ReadResult = readFileHead,
): (path: string, probe: ProbeResult) => ReadResult {
  let key = "", kept: ReadResult | undefined;
  return (path, probe) => {
    const now = probe.ok ? `${path}|${identityKey(probe.identity)}` : "";
    if (kept && now !== "" && now === key) return kept;
    kept = read(path, n, probe);
    const settled = probe.ok && wall() - probe.identity.mtimeMs >= RACY_MS;
    key = kept.ok && settled ? now : "";
    return kept;
  };
}

/** What {@linkcode withRegularFile} returns. */
export type ScanResult<T> =
  | { ok: true; value: T; identity: FileIdentity }
  | { ok: false; failure: ReadFailure };

/**
 * Opens a regular file with the same refusals as {@linkcode readRegularFile} and hands
 * `body` a positioned reader (fewer bytes at the end of the file), for formats read in
 * pieces (a SQLite WAL's frame headers). The file is closed when `body` returns. `probe`:
 * the caller's lstat of it, when it has just taken one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRegularFile } from "./safe_read.ts";
 * const r = withRegularFile("/nonexistent", (read) => read(0, 4).length);
 * assert.equal(r.ok ? r.value : r.failure.kind, "missing");
 * ```
 */
export function withRegularFile<T>(
  path: string,
  body: (read: (pos: number, n: number) => Uint8Array, identity: FileIdentity) => T,
  probe?: ProbeResult,
): ScanResult<T> {
  let value: T | undefined;
  const r = withVerifiedFd(path, (fd, _st, identity) => {
    value = body((pos, n) => readAt(fd, pos, n), identity);
    return { ok: true, bytes: new Uint8Array(), identity };
  }, { probe });
  return r.ok ? { ok: true, value: value as T, identity: r.identity } : r;
}

/** Up to `n` bytes at `pos`; fewer at the end of the file. */
function readAt(fd: number, pos: number, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  let total = 0;
  while (total < n) {
    const got = fs.readSync(fd, buf, total, n - total, pos + total);
    if (got === 0) break;
    total += got;
  }
  return buf.subarray(0, total);
}

/** How {@linkcode withVerifiedFd} reads. */
interface VerifiedOptions {
  /** Refuse a file larger than this from its lstat, unread. */
  maxBytes?: number | undefined;
  /** Hand the open descriptor to the caller instead of closing it. */
  keepOpen?: boolean | undefined;
  /** The caller's lstat of the path, taken just before: not taken again. */
  probe?: ProbeResult | undefined;
}

/**
 * lstat (or the caller's), refuse what is not a regular file, open non-blocking, check the
 * opened inode is the lstat one, run `body`, close. Every failure is a named
 * {@linkcode ReadFailure}; nothing throws. Deno resolves a symlink itself before its open
 * (node:fs's O_NOFOLLOW never reaches the kernel), so a link swapped in between lstat and open
 * is followed: the open is then non-blocking (a FIFO cannot hang us) and the inode check
 * refuses to read what it reached. The identity handed on is the lstat's, so it keys the same
 * as a later {@linkcode probeFile}.
 */
function withVerifiedFd(
  path: string,
  body: (fd: number, st: fs.Stats, identity: FileIdentity) => ReadResult,
  opts: VerifiedOptions = {},
): ReadResult {
  const probe = opts.probe ?? probeFile(path);
  if (!probe.ok) return probe;
  const { maxBytes } = opts;
  if (maxBytes !== undefined && probe.identity.size > maxBytes) return tooLarge(path, maxBytes);
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_NONBLOCK);
  } catch (err) {
    return { ok: false, failure: failureFromError(path, err) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      return {
        ok: false,
        failure: { kind: "not_regular", detail: `${path} is a ${kindOf(st)}, not a regular file` },
      };
    }
    if (st.dev !== probe.identity.dev || st.ino !== probe.identity.ino) {
      return {
        ok: false,
        failure: { kind: "changed", detail: `${path} was replaced between lstat and open` },
      };
    }
    const result = body(fd, st, probe.identity);
    if (opts.keepOpen && result.ok) {
      const kept = fd;
      fd = -1; // handed to the caller
      return { ...result, fd: kept };
    }
    return result;
  } catch (err) {
    return { ok: false, failure: failureFromError(path, err) };
  } finally {
    closeFd(fd);
  }
}

/**
 * Closes a read-only descriptor, ignoring errors (nothing can be lost); negative is a no-op.
 *
 * @example
 * ```ts
 * import { closeFd } from "./safe_read.ts";
 * closeFd(-1);
 * ```
 */
export function closeFd(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // Closing a read-only descriptor cannot lose data; nothing to report.
  }
}

/**
 * Closes a descriptor off the event loop: the last close of a file that was renamed over
 * frees its inode, a quarter of a millisecond of the kernel's work that no request should
 * wait behind. Negative is a no-op.
 *
 * @example
 * ```ts
 * import { closeFdLater } from "./safe_read.ts";
 * closeFdLater(-1);
 * ```
 */
export function closeFdLater(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  fs.close(fd, () => {});
}

function tooLarge(path: string, maxBytes: number): ReadResult {
  return {
    ok: false,
    failure: { kind: "too_large", detail: `${path} is larger than ${maxBytes} bytes: refused` },
  };
}
