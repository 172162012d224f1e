/**
 * The cached reader of the ingestor's stats file. Keyed by file identity (dev, ino, size,
 * mtime in ms): the writer renames a new file into place, so every version has a new inode,
 * and Deno's own `stat().mtime` has only millisecond precision. Each version is opened and
 * parsed at most once, whatever the request rate; failures are cached per version too.
 *
 * @module
 */

import { coalesce } from "../base/coalesce.ts";
import type { Logger } from "../base/log.ts";
import {
  closeFd,
  closeFdLater,
  identityKey,
  probeFile,
  type ProbeResult,
  RACY_MS,
  type ReadFailureKind,
  readRegularFile,
  type ReadResult,
} from "../base/safe_read.ts";
import { parseStatsSnapshot, type StatsSnapshot } from "./stats_snapshot.ts";

export { RACY_MS };

/** What one read of the stats file gave. */
export type StatsContent =
  | { kind: "ok"; snapshot: StatsSnapshot }
  | {
    kind: "unavailable";
    /** `invalid` when the bytes were read but are not a stats object. */
    reason: ReadFailureKind | "invalid";
    detail: string;
  };

/** What the stats file holds right now, as every endpoint sees it; `version` grows on change. */
export type StatsState = StatsContent & { version: number };

/** Counters of the cache's own work. */
export interface StatsCacheCounters {
  /** Requests answered from the cached version. */
  hits: number;
  /** Requests that found a new version (or none cached yet). */
  misses: number;
  /** Times the file was opened and read. */
  opens: number;
  /** Times read bytes were parsed. */
  parses: number;
  /** Distinct versions seen (also failure states). */
  versions: number;
  /** Requests that found a new version past the parse budget and got the cached one. */
  deferred: number;
}

/** The cached reader. */
export interface StatsCache {
  /**
   * The current state; probes the file's identity and re-reads only when it changed. `at`:
   * the time now on the monotonic clock, when the caller has it.
   */
  get(at?: number): StatsState;
  /** The cache's own counters. */
  counters(): StatsCacheCounters;
  /** Releases the cached version's open file. */
  close(): void;
}

/** Dependencies of {@linkcode createStatsCache}; the I/O ones are injectable for tests. */
export interface StatsCacheOptions {
  path: string;
  maxBytes: number;
  log: Logger;
  probe?: (path: string) => ProbeResult;
  read?: (
    path: string,
    maxBytes: number,
    opts: { keepOpen: boolean; probe?: ProbeResult },
  ) => ReadResult;
  /** Under a burst of calls, reuse one identity probe for this long (ms); 0 never reuses. */
  coalesceMs?: number;
  /**
   * The parse budget, in bytes of new versions (absent: every version is parsed). Ordinary
   * versions (the ingestor writes a few KB a second) are parsed the moment they are seen; a
   * writer that replaces the file with large versions as fast as it can gets `bytesPerSec`,
   * not the event loop. Past the budget the cached version is served (and judged by its own
   * stamp) until enough is earned again. A file gone, or refused from its lstat, is reported
   * at once.
   */
  parseBudget?: ParseBudget;
  /** Monotonic clock (ms) for `coalesceMs` and the parse budget. */
  mono?: () => number;
  /** Wall clock (ms since the epoch), the file system's mtimes' clock: what is racy. */
  wall?: () => number;
  /** Runs `fn` once after `ms` without keeping the process alive (tests run it by hand). */
  later?: (fn: () => void, ms: number) => void;
}

const unrefLater = (fn: () => void, ms: number) => Deno.unrefTimer(setTimeout(fn, ms));

/** Bytes of new stats versions that may be parsed: a rate, and a burst. */
export interface ParseBudget {
  /** Bytes earned per second. */
  bytesPerSec: number;
  /** Bytes that may be spent at once; at least the largest file accepted. */
  burstBytes: number;
}

/**
 * A token bucket of bytes: `take(n, now)` spends `n` when there are that many, refilling at
 * `bytesPerSec` up to `burstBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteBucket } from "./stats_cache.ts";
 * const take = byteBucket({ bytesPerSec: 1000, burstBytes: 1000 });
 * assert.equal(take(600, 0), true);
 * assert.equal(take(600, 0), false); // 400 left
 * assert.equal(take(600, 200), true); // 200 ms earned 200 more
 * ```
 */
export function byteBucket(b: ParseBudget): (n: number, now: number) => boolean {
  let tokens = b.burstBytes, at = -Infinity;
  return (n, now) => {
    if (now > at) tokens = Math.min(b.burstBytes, tokens + ((now - at) * b.bytesPerSec) / 1000);
    at = Math.max(at, now);
    if (n > tokens) return false;
    tokens -= n;
    return true;
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Creates the cached reader for one stats file path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStatsCache } from "./stats_cache.ts";
 * import { silentLogger } from "../base/log.ts";
 * const cache = createStatsCache({ path: "/nonexistent", maxBytes: 1 << 20, log: silentLogger });
 * assert.deepEqual(cache.get().kind, "unavailable");
 * ```
 */
export function createStatsCache(opts: StatsCacheOptions): StatsCache {
  const probe = opts.probe ?? probeFile;
  const read = opts.read ?? readRegularFile;
  const { path, maxBytes, log } = opts;
  const mono = opts.mono ?? (() => performance.now());
  const coalesceMs = opts.coalesceMs ?? 0;
  const spend = opts.parseBudget ? byteBucket(opts.parseBudget) : () => true;
  const c: StatsCacheCounters = {
    hits: 0,
    misses: 0,
    opens: 0,
    parses: 0,
    versions: 0,
    deferred: 0,
  };
  // A racy version's file stays open: an inode cannot be reused while it is open, so a new
  // version can never show its identity (inode numbers are otherwise recycled, and a
  // same-size rewrite within one mtime tick would look unchanged). An older version is closed
  // at once: keeping every version open made this process, not the ingestor's rename, pay
  // for freeing each replaced file (0.4-3 ms of the kernel's time on ext4, every second).
  let cached: Cached | undefined;
  const wall = opts.wall ?? Date.now;
  const io = { read, path, maxBytes, wall };

  const unpinLater = pinReleaser({
    later: opts.later ?? unrefLater,
    wall,
    current: () => cached,
    inPlace: (v) => keyOf(probe(path)) === v.key,
  });

  // Under a burst of requests one lstat serves them all for `coalesceMs` (an lstat costs
  // about as much as a whole bare HTTP response); a lone request always probes.
  const probeNow = coalesce(() => {
    const p = probe(path);
    return { p, key: keyOf(p) };
  }, { windowMs: coalesceMs, mono });

  function get(at?: number): StatsState {
    const { p, key } = probeNow(at);
    if (cached && key === cached.key) {
      c.hits++;
      return cached.state;
    }
    // Only a version that must be read and parsed spends the budget; a file that is gone,
    // or refused from its lstat (not regular, too large), is reported at once.
    const parses = p.ok && p.identity.size <= maxBytes;
    if (cached && parses && !spend(p.identity.size, mono())) {
      c.deferred++;
      return cached.state;
    }
    c.misses++;
    const previous = cached;
    cached = loadVersion(p, io, c);
    if (cached.pin !== undefined) unpinLater();
    // The last close of a version renamed over frees its inode: off the event loop.
    closeFdLater(previous?.pin);
    report(log, path, cached.state);
    return cached.state;
  }

  return {
    get,
    close() {
      closeFd(cached?.pin);
      cached = undefined;
    },
    counters: () => ({ ...c }),
  };
}

/**
 * The release of racy pins: one timer at most, whatever the rate of racy versions, holding no
 * version of its own (when it fires it looks at whichever version is cached then); a version
 * old enough and still in place is closed, one replaced is left to the next read to close.
 */
function pinReleaser(o: {
  later: (fn: () => void, ms: number) => void;
  wall: () => number;
  current: () => Cached | undefined;
  inPlace: (v: Cached) => boolean;
}): () => void {
  let pending = false;
  const release = (): void => {
    if (pending) return;
    pending = true;
    o.later(() => {
      pending = false;
      const version = o.current();
      if (version?.pin === undefined) return;
      if (version.mtimeMs! >= o.wall() - RACY_MS) return release(); // not yet, or the clock went back
      if (!o.inPlace(version)) return; // replaced: the next read closes it
      closeFd(version.pin);
      version.pin = undefined;
    }, RACY_MS + 10);
  };
  return release;
}

/** One cached version: its identity key, what it holds, and its file while it is racy. */
type Cached = { key: string; state: StatsState; pin?: number; mtimeMs?: number };

/** How a version is read. */
interface VersionIo {
  read: (
    path: string,
    maxBytes: number,
    opts: { keepOpen: boolean; probe?: ProbeResult },
  ) => ReadResult;
  path: string;
  maxBytes: number;
  wall: () => number;
}

/**
 * Reads the file once (its lstat the probe just taken), and once more if it was replaced
 * while being read.
 */
function readOnce(io: VersionIo, c: StatsCacheCounters, probe: ProbeResult): ReadResult {
  let r = io.read(io.path, io.maxBytes, { keepOpen: true, probe });
  c.opens++;
  if (!r.ok && r.failure.kind === "changed") {
    // Replaced while we read: the next version is already there, read it once more.
    r = io.read(io.path, io.maxBytes, { keepOpen: true });
    c.opens++;
  }
  return r;
}

/** Loads the version a probe found: a failure state, or the read and parsed content. */
function loadVersion(p: ProbeResult, io: VersionIo, c: StatsCacheCounters): Cached {
  const version = ++c.versions;
  if (!p.ok) {
    return { key: keyOf(p), state: { ...unavailable(p.failure.kind, p.failure.detail), version } };
  }
  // Before the open: the file was in place at least from then, so an inode reused after it
  // is freed is stamped later than this, give or take the coarse clock's tick.
  const openedAt = io.wall();
  const r = readOnce(io, c, p);
  if (!r.ok) {
    return { key: keyOf(p), state: { ...unavailable(r.failure.kind, r.failure.detail), version } };
  }
  const racy = r.identity.mtimeMs >= openedAt - RACY_MS;
  if (!racy) closeFd(r.fd);
  return {
    key: identityKey(r.identity),
    pin: racy ? r.fd : undefined,
    mtimeMs: r.identity.mtimeMs,
    state: { ...contentOf(io.path, r.bytes, c), version },
  };
}

/** A probe's key: the file's identity, or the kind of failure (a negative result, cached too). */
function keyOf(p: ProbeResult): string {
  return p.ok ? identityKey(p.identity) : `fail:${p.failure.kind}`;
}

/** What the bytes of one version hold: a snapshot, or why they are not one. */
function contentOf(path: string, bytes: Uint8Array, c: StatsCacheCounters): StatsContent {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return unavailable("invalid", `${path} is not UTF-8 text`);
  }
  c.parses++;
  const parsed = parseStatsSnapshot(text);
  return parsed.ok
    ? { kind: "ok", snapshot: parsed.snapshot }
    : unavailable("invalid", `${path}: ${parsed.error}`);
}

/**
 * Logs what a new version means, as conditions (when they start, change and end), so a
 * writer that keeps writing the same bad field is reported once, not per version.
 */
function report(log: Logger, path: string, s: StatsState): void {
  if (s.kind === "unavailable") {
    log.condition("stats_file", s.detail, s.reason === "missing" ? "warn" : "error");
    return;
  }
  log.condition("stats_file", undefined);
  const problems = s.snapshot.problems;
  log.condition(
    "stats_fields",
    problems.length === 0
      ? undefined
      : `${path}: ${problems.length} field(s) left out: ${problems.slice(0, 10).join("; ")}`,
  );
  const cut = s.snapshot.truncated;
  log.condition(
    "stats_names",
    cut.length === 0 ? undefined : `${path}: entries over the limit left out: ${cut.join("; ")}`,
  );
}

function unavailable(
  reason: ReadFailureKind | "invalid",
  detail: string,
): StatsContent {
  return { kind: "unavailable", reason, detail };
}
