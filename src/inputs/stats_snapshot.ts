/**
 * Validation of the ingestor's stats file into one typed snapshot, section by section and
 * field by field: a bad field is left out and named in `problems`, the rest is served.
 * Every string and map key that comes out is credential-masked, so no later code can leak
 * a broker password. Pure: text in, snapshot out; never throws.
 *
 * @module
 */

import { parseRfc3339 } from "../base/rfc3339.ts";
import { MAX_VALUE_CHARS } from "../base/log.ts";
import { maskBounded } from "../base/mask.ts";

/**
 * At most this many entries are kept of each named map or list in the file (backfill kinds,
 * writer components, liveness sources, source statuses): names are data from a file anyone
 * who can write /tmp may write, and every one of them is carried into bodies, metrics and
 * 600 history samples. What is left out is named in `truncated` and logged.
 */
export const MAX_NAMES = 64;
/** Names (map keys) longer than this are cut, with "…" appended. */
export const MAX_NAME_CHARS = 128;

/**
 * What a write-source name may be made of: `backfillUpdates` kinds and `writer_perf`
 * components are identifiers in the ingestor's code, and CoreScope's own perf page puts them
 * into HTML as they come. A name outside this set is left out (and named in `problems`).
 */
export const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

// Control characters (C0, DEL, C1): shown as U+FFFD in every name and text that leaves, so no
// body, label value or log line carries one, and names stay distinct as they are shown.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Longest text an RFC 3339 stamp can be (`2026-11-23T12:00:00.123456789+01:00`). */
const MAX_STAMP_CHARS = 40;

/** The nine integer counters, under their file names, in the order the ingestor writes them. */
export const COUNTER_NAMES = [
  "tx_inserted",
  "obs_inserted",
  "tx_dupes",
  "node_upserts",
  "observer_upserts",
  "write_errors",
  "sig_drops",
  "walCommits",
  "groupCommitFlushes",
] as const;

/** One of {@linkcode COUNTER_NAMES}. */
export type CounterName = typeof COUNTER_NAMES[number];

/** The five per-second rates of `procIO`. */
export const PROC_IO_RATE_KEYS = [
  "readBytesPerSec",
  "writeBytesPerSec",
  "cancelledWriteBytesPerSec",
  "syscallsRead",
  "syscallsWrite",
] as const;

/** The ingestor's own I/O rates (`procIO`). */
export interface ProcIoSample {
  readBytesPerSec: number;
  writeBytesPerSec: number;
  cancelledWriteBytesPerSec: number;
  syscallsRead: number;
  syscallsWrite: number;
  sampledAt?: string;
}

/** Keys of one `writer_perf` entry, in file order. */
export const WRITER_PERF_KEYS = [
  "count",
  "contention_total",
  "wait_ms_p50",
  "wait_ms_p95",
  "wait_ms_p99",
  "wait_ms_max",
  "hold_ms_p50",
  "hold_ms_p95",
  "hold_ms_p99",
  "hold_ms_max",
] as const;

/** One component's writer-lock latency (ms) and counts. */
export type WriterStats = Record<typeof WRITER_PERF_KEYS[number], number>;

/** One MQTT source's two clocks, unix seconds, 0 = never. */
export interface SourceLiveness {
  lastReceiptUnix: number;
  lastMessageUnix: number;
}

/** One MQTT source's connection status; strings already masked. */
export interface SourceStatus {
  name: string;
  broker: string;
  connected: boolean;
  lastConnectUnix: number;
  lastDisconnectUnix: number;
  lastPacketUnix: number;
  connectCount: number;
  disconnectCount: number;
  packetsTotal: number;
  packetsLast5m: number;
  lastError?: string;
}

/** The validated content of one stats file version. */
export interface StatsSnapshot {
  /** Top-level `sampledAt` as written (masked), when it is a string. */
  sampledAt?: string;
  /** The nine counters: 0 when the file omits one, absent when it has a wrong type. */
  counters: Partial<Record<CounterName, number>>;
  /**
   * The counters the file omits (an older ingestor): shown as 0, as Go decodes them, but
   * nothing to judge the writes by.
   */
  omitted?: CounterName[];
  /** Valid `backfillUpdates` entries. */
  backfillUpdates?: Record<string, number>;
  procIO?: ProcIoSample;
  writerPerf?: Record<string, WriterStats>;
  sourceLiveness?: Record<string, SourceLiveness>;
  sourceStatuses?: SourceStatus[];
  watchdogLastTickUnix?: number;
  watchdogPanicCount?: number;
  /** One short sentence per field or section that was left out, for the log. */
  problems: string[];
  /** One sentence per map or list cut to {@linkcode MAX_NAMES} entries. */
  truncated: string[];
  /** The effective stamp (top level, else procIO's) in epoch ms, parsed once per version. */
  stampMs: number | "none" | "bad";
  /** The write-source counters flattened once per version (see {@linkcode flattenSources}). */
  sources: Record<string, number>;
}

/** Result of {@linkcode parseStatsSnapshot}: a snapshot, or why the file is not one. */
export type SnapshotParse =
  | { ok: true; snapshot: StatsSnapshot }
  | { ok: false; error: string };

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A count or a unix stamp: a whole number, not negative (a counter below 0 cannot be). */
function isInt(v: Json): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A rate or a duration: a finite number, not negative. */
function isNum(v: Json): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number" && v < 0) return "a negative number";
  if (typeof v === "number" && !Number.isSafeInteger(v) && Number.isInteger(v)) {
    return "an integer beyond 2^53";
  }
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/**
 * Parses and validates stats file text. Malformed JSON or a top level that is not an object
 * gives `ok: false`; otherwise every section is checked on its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStatsSnapshot } from "./stats_snapshot.ts";
 * const r = parseStatsSnapshot('{"tx_inserted": 5, "obs_inserted": "x"}');
 * assert.ok(r.ok);
 * assert.equal(r.snapshot.counters.tx_inserted, 5);
 * assert.equal(r.snapshot.counters.obs_inserted, undefined, "a wrong type is left out");
 * assert.equal(r.snapshot.counters.tx_dupes, 0, "an omitted counter is 0, as Go decodes it");
 * assert.deepEqual(r.snapshot.problems, [
 *   "obs_inserted: expected a non-negative integer, got a string",
 * ]);
 * ```
 */
export function parseStatsSnapshot(text: string): SnapshotParse {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8 quotes file content in its messages: say where, never what.
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : "")?.[1];
    return {
      ok: false,
      error: at === undefined ? "not valid JSON" : `not valid JSON at byte ${at}`,
    };
  }
  if (!isObject(doc)) return { ok: false, error: `top level is ${describe(doc)}, not an object` };
  return { ok: true, snapshot: validate(doc) };
}

function validate(doc: Record<string, Json>): StatsSnapshot {
  const problems: string[] = [];
  const bad = (field: string, want: string, got: Json) =>
    problems.push(`${field}: expected ${want}, got ${describe(got)}`);
  const truncated: string[] = [];
  const snap: StatsSnapshot = {
    counters: {},
    problems,
    truncated,
    stampMs: "none",
    sources: {},
  };

  // Set when the top-level stamp is there but is no time: the sample is then not fresh, even
  // if procIO carries a stamp of its own.
  let topStampBad = false;
  // An empty stamp is no stamp (as Go decodes an absent one): procIO's counts.
  if ("sampledAt" in doc && doc.sampledAt !== "") {
    const at = stamp(doc.sampledAt);
    if (at !== undefined) snap.sampledAt = at;
    else {
      topStampBad = true;
      bad("sampledAt", "an RFC 3339 time", doc.sampledAt);
    }
  }
  for (const name of COUNTER_NAMES) {
    // Older ingestors omit newer counters: 0, as Go decodes them. A wrong type is left out.
    if (!(name in doc)) {
      snap.counters[name] = 0;
      (snap.omitted ??= []).push(name);
      continue;
    }
    const v = doc[name];
    if (isInt(v)) snap.counters[name] = v;
    else bad(name, "a non-negative integer", v);
  }
  if ("backfillUpdates" in doc) {
    snap.backfillUpdates = intMap(
      "backfillUpdates",
      doc.backfillUpdates,
      bad,
      truncated,
      problems,
    );
  }
  if ("procIO" in doc) snap.procIO = procIo(doc.procIO, bad);
  if ("writer_perf" in doc) {
    snap.writerPerf = writerPerf(doc.writer_perf, bad, truncated, problems);
  }
  if ("source_liveness" in doc) snap.sourceLiveness = liveness(doc.source_liveness, bad, truncated);
  if ("source_statuses" in doc) snap.sourceStatuses = statuses(doc.source_statuses, bad, truncated);
  for (const key of ["watchdogLastTickUnix", "watchdogPanicCount"] as const) {
    if (!(key in doc)) continue;
    if (isInt(doc[key])) snap[key] = doc[key];
    else bad(key, "a non-negative integer", doc[key]);
  }
  const effective = snap.sampledAt || snap.procIO?.sampledAt;
  snap.stampMs = topStampBad ? "bad" : effective ? parseRfc3339(effective)! : "none";
  snap.sources = flattenSources(snap);
  return snap;
}

/**
 * Flattens the counters: the nine under their file names (0 when an older ingestor omits
 * one, absent when the file has it with a wrong type) and `backfill_<name>` entries, keys
 * sorted as Go's encoding/json writes a map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenSources } from "./stats_snapshot.ts";
 * assert.deepEqual(
 *   flattenSources({ counters: { tx_inserted: 3 }, backfillUpdates: { path_json: 1 } }),
 *   { backfill_path_json: 1, tx_inserted: 3 },
 * );
 * ```
 */
export function flattenSources(
  snap: Pick<StatsSnapshot, "counters" | "backfillUpdates">,
): Record<string, number> {
  const sources: Record<string, number> = {};
  for (const name of COUNTER_NAMES) {
    const v = snap.counters[name];
    if (v !== undefined) sources[name] = v;
  }
  for (const [name, v] of Object.entries(snap.backfillUpdates ?? {})) {
    sources[`backfill_${name}`] = v;
  }
  const out: Record<string, number> = {};
  for (const k of Object.keys(sources).sort()) out[k] = sources[k]!;
  return out;
}

/**
 * The first {@linkcode MAX_NAMES} entries of an object, names masked and length-capped; with
 * `plain`, only names of {@linkcode PLAIN_NAME}, the others left out and counted in `problems`.
 */
function entries(
  v: Record<string, Json>,
  field: string,
  cut: string[],
  plain?: string[],
): [string, Json][] {
  // One enumeration of the keys (a file may hold 100,000 of them): count and first few.
  const keys = Object.keys(v);
  if (keys.length > MAX_NAMES) cut.push(`${field}: kept ${MAX_NAMES} of ${keys.length} entries`);
  let kept = keys.slice(0, MAX_NAMES);
  if (plain) {
    const ok = kept.filter((k) => PLAIN_NAME.test(k));
    const left = kept.length - ok.length;
    // Never the name itself: it may be markup meant for someone's page.
    if (left > 0) plain.push(`${field}: ${left} name(s) outside [A-Za-z0-9_.-] left out`);
    kept = ok;
  }
  const names = distinctNames(kept);
  return kept.map((raw, i) => [names[i]!, v[raw]]);
}

/**
 * The names `raws` show as, each distinct after masking, cutting and UTF-16 repair: `n`,
 * `n (2)`, `n (3)`… Suffixes go in the order of the raw names, so the same source keeps its
 * suffix whatever order a list comes in, and a map and a list agree.
 */
function distinctNames(raws: readonly string[]): string[] {
  const shown = raws.map(name);
  const order = raws.map((_, i) => i).sort((a, b) => (raws[a]! < raws[b]! ? -1 : 1));
  const seen = new Set<string>();
  for (const i of order) shown[i] = distinct(shown[i]!, seen);
  return shown;
}

/**
 * `n`, or `n (2)`, `n (3)`…: two names that differ only in a masked password stay two
 * entries (two series, two liveness rows) instead of merging into one.
 */
function distinct(n: string, seen: Set<string>): string {
  let out = n;
  for (let i = 2; seen.has(out); i++) out = `${n} (${i})`;
  seen.add(out);
  return out;
}

/**
 * Free text (a broker URL, an error) as it may leave the service: cut, masked, cut to
 * {@linkcode MAX_VALUE_CHARS}, well-formed, in time bounded by that length.
 */
function text(raw: string): string {
  return maskBounded(raw, MAX_VALUE_CHARS).replace(CONTROL, "\uFFFD");
}

/**
 * A name (or a stamp) as it may leave the service: cut, masked, cut to
 * {@linkcode MAX_NAME_CHARS}, well-formed, in time bounded by that length.
 */
function name(raw: string): string {
  return maskBounded(raw, MAX_NAME_CHARS).replace(CONTROL, "\uFFFD");
}

/** A stamp as it may leave: an RFC 3339 time as written, or `undefined` for anything else. */
function stamp(raw: Json): string | undefined {
  if (typeof raw !== "string" || raw.length > MAX_STAMP_CHARS) return undefined;
  return parseRfc3339(raw) === undefined ? undefined : raw;
}

type Bad = (field: string, want: string, got: Json) => void;

function intMap(
  field: string,
  v: Json,
  bad: Bad,
  cut: string[],
  plain: string[],
): Record<string, number> | undefined {
  if (!isObject(v)) return void bad(field, "an object", v);
  const out: Record<string, number> = {};
  for (const [k, n] of entries(v, field, cut, plain)) {
    if (isInt(n)) out[k] = n;
    else bad(`${field}.${k}`, "a non-negative integer", n);
  }
  return out;
}

function procIo(v: Json, bad: Bad): ProcIoSample | undefined {
  if (!isObject(v)) return void bad("procIO", "an object", v);
  const out: ProcIoSample = {
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    cancelledWriteBytesPerSec: 0,
    syscallsRead: 0,
    syscallsWrite: 0,
  };
  for (const key of PROC_IO_RATE_KEYS) {
    if (!(key in v)) continue;
    if (isNum(v[key])) out[key] = v[key];
    else bad(`procIO.${key}`, "a non-negative number", v[key]);
  }
  if ("sampledAt" in v && v.sampledAt !== "") {
    const at = stamp(v.sampledAt);
    if (at !== undefined) out.sampledAt = at;
    else bad("procIO.sampledAt", "an RFC 3339 time", v.sampledAt);
  }
  return out;
}

function writerPerf(
  v: Json,
  bad: Bad,
  cut: string[],
  plain: string[],
): Record<string, WriterStats> | undefined {
  if (!isObject(v)) return void bad("writer_perf", "an object", v);
  const out: Record<string, WriterStats> = {};
  for (const [name, entry] of entries(v, "writer_perf", cut, plain)) {
    if (!isObject(entry)) {
      bad(`writer_perf.${name}`, "an object", entry);
      continue;
    }
    const stats = Object.fromEntries(WRITER_PERF_KEYS.map((k) => [k, 0])) as WriterStats;
    for (const key of WRITER_PERF_KEYS) {
      if (!(key in entry)) continue;
      const n = entry[key];
      const intKey = key === "count" || key === "contention_total";
      if (intKey ? isInt(n) : isNum(n)) stats[key] = n as number;
      else {
        bad(
          `writer_perf.${name}.${key}`,
          intKey ? "a non-negative integer" : "a non-negative number",
          n,
        );
      }
    }
    out[name] = stats;
  }
  return out;
}

function liveness(
  v: Json,
  bad: Bad,
  cut: string[],
): Record<string, SourceLiveness> | undefined {
  if (!isObject(v)) return void bad("source_liveness", "an object", v);
  const out: Record<string, SourceLiveness> = {};
  for (const [name, entry] of entries(v, "source_liveness", cut)) {
    if (!isObject(entry)) {
      bad(`source_liveness.${name}`, "an object", entry);
      continue;
    }
    const clocks: SourceLiveness = { lastReceiptUnix: 0, lastMessageUnix: 0 };
    let valid = true;
    for (const key of ["lastReceiptUnix", "lastMessageUnix"] as const) {
      if (!(key in entry)) continue;
      if (isInt(entry[key])) clocks[key] = entry[key] as number;
      else {
        bad(`source_liveness.${name}.${key}`, "a non-negative integer", entry[key]);
        valid = false;
      }
    }
    // A source whose clock is unreadable is left out rather than shown as "never".
    if (valid) out[name] = clocks;
  }
  return out;
}

const STATUS_INTS = [
  "lastConnectUnix",
  "lastDisconnectUnix",
  "lastPacketUnix",
  "connectCount",
  "disconnectCount",
  "packetsTotal",
  "packetsLast5m",
] as const;

function statuses(v: Json, bad: Bad, cut: string[]): SourceStatus[] | undefined {
  if (!Array.isArray(v)) return void bad("source_statuses", "an array", v);
  if (v.length > MAX_NAMES) cut.push(`source_statuses: kept ${MAX_NAMES} of ${v.length} entries`);
  const out: SourceStatus[] = [];
  const kept = v.slice(0, MAX_NAMES);
  // Rows whose names become equal once masked or cut stay two rows (and two series).
  const rawNames = kept.map((e: Json) => (isObject(e) && typeof e.name === "string" ? e.name : ""));
  const names = distinctNames(rawNames);
  kept.forEach((entry: Json, i: number) => {
    const at = `source_statuses[${i}]`;
    if (!isObject(entry)) return bad(at, "an object", entry);
    const row: SourceStatus = {
      name: "",
      broker: "",
      connected: false,
      lastConnectUnix: 0,
      lastDisconnectUnix: 0,
      lastPacketUnix: 0,
      connectCount: 0,
      disconnectCount: 0,
      packetsTotal: 0,
      packetsLast5m: 0,
    };
    for (const key of ["name", "broker", "lastError"] as const) {
      if (!(key in entry)) continue;
      const s = entry[key];
      if (typeof s === "string") {
        if (key !== "lastError" || s !== "") row[key] = key === "name" ? names[i]! : text(s);
      } else bad(`${at}.${key}`, "a string", s);
    }
    if ("connected" in entry) {
      if (typeof entry.connected === "boolean") row.connected = entry.connected;
      else bad(`${at}.connected`, "a boolean", entry.connected);
    }
    for (const key of STATUS_INTS) {
      if (!(key in entry)) continue;
      if (isInt(entry[key])) row[key] = entry[key] as number;
      else bad(`${at}.${key}`, "a non-negative integer", entry[key]);
    }
    out.push(row);
  });
  return out;
}
