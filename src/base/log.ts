/**
 * One line per event, with a level, as text or JSON lines (for journald and log shippers).
 * Every line is credential-masked before it is written. A persisting condition is logged
 * when it starts and when it ends, not on every request.
 *
 * @module
 */

import { maskBounded } from "./mask.ts";

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Output format of the log. */
export type LogFormat = "text" | "json";

/** Extra structured fields of a log line. */
export type Fields = Record<string, string | number | boolean | undefined>;

/** The logger every module receives. */
export interface Logger {
  log(level: Level, event: string, msg: string, fields?: Fields): void;
  /**
   * Reports a condition identified by `key`: logs `msg` at `level` when it starts or its
   * message changes, and one info line when it clears (`msg` undefined). Repeats are silent.
   */
  condition(key: string, msg: string | undefined, level?: Level): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  format?: LogFormat;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
  /** Clock for timestamps. */
  now?: () => number;
  /** Monotonic clock (ms) for the rate limit: a wall clock stepped back must not silence it. */
  mono?: () => number;
  /** Lines below this level are dropped. */
  minLevel?: Level;
  /** At most this many lines per event name per minute; the rest are counted, then reported. */
  perMinute?: number;
}

// Control characters, on purpose: these are what must never reach a log line raw. C0, DEL
// and C1 (a terminal takes U+009B as CSI), line and paragraph separators, and the bidi
// controls that make a line read otherwise than it is (U+202E turns the rest around).
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** Longest text any one message or field value may put on a line. */
export const MAX_VALUE_CHARS = 512;

/**
 * Makes a value safe to put on a text log line: control characters (a forged "\n<date> INFO
 * ..." line) are escaped, and it is cut to {@linkcode MAX_VALUE_CHARS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneLine } from "./log.ts";
 * assert.equal(oneLine("a\nb\u001b[31m"), "a\\nb\\u001b[31m");
 * ```
 */
export function oneLine(text: string): string {
  const cut = text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
  return escapeControls(cut);
}

function escapeControls(text: string): string {
  return text.replace(
    CONTROL,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\r"
        ? "\\r"
        : c === "\t"
        ? "\\t"
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const encoder = new TextEncoder();
function stderrWrite(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // A closed stderr must not take the service down.
  }
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => 0 });
 * log.condition("stats", "stats file missing", "warn");
 * log.condition("stats", "stats file missing", "warn"); // silent: still the same
 * log.condition("stats", undefined);
 * assert.equal(lines.length, 2);
 * assert.equal(JSON.parse(lines[1]!).msg, "resolved (was: stats file missing)");
 * ```
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "text";
  const write = opts.write ?? stderrWrite;
  const now = opts.now ?? Date.now;
  const mono = opts.mono ?? (() => performance.now());
  const min = RANK[opts.minLevel ?? "info"];
  const perMinute = opts.perMinute ?? 30;
  const active = new Map<string, string>();
  // Per event name: lines written in the current minute, and lines dropped since.
  const budget = new Map<string, { since: number; lines: number; dropped: number }>();

  function allowed(event: string, t: number): { ok: boolean; dropped: number } {
    let b = budget.get(event);
    if (!b || t - b.since >= 60_000) {
      const dropped = b?.dropped ?? 0;
      if (budget.size > 1000) budget.clear(); // event names are ours, but stay bounded
      budget.set(event, b = { since: t, lines: 0, dropped: 0 });
      b.lines++;
      return { ok: true, dropped };
    }
    if (b.lines >= perMinute) {
      b.dropped++;
      return { ok: false, dropped: 0 };
    }
    b.lines++;
    return { ok: true, dropped: 0 };
  }

  function log(level: Level, event: string, msg: string, fields: Fields = {}): void {
    if (RANK[level] < min) return;
    const { ok, dropped } = allowed(event, mono());
    if (!ok) return;
    const ts = new Date(now()).toISOString();
    const all: Fields = dropped > 0 ? { ...fields, suppressed: dropped } : fields;
    // Masked (after a cut that masks what it leaves open) before it is escaped: a cut can
    // never split a password from its URL, and the cost is bounded by the line's length.
    const text = (v: string) => oneLine(maskBounded(v, MAX_VALUE_CHARS));
    let line: string;
    if (format === "json") {
      const safe: Fields = {};
      for (const [k, v] of Object.entries(all)) {
        safe[k] = typeof v === "string" ? maskBounded(v, MAX_VALUE_CHARS) : v;
      }
      // JSON escapes C0 only: the rest of the controls become \uXXXX too (still valid JSON).
      line = escapeControls(JSON.stringify({
        ts,
        level,
        event,
        msg: maskBounded(msg, MAX_VALUE_CHARS),
        ...safe,
      }));
    } else {
      const extra = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${typeof v === "string" ? JSON.stringify(text(v)) : v}`)
        .join("");
      line = `${ts} ${level.toUpperCase()} ${event}: ${text(msg)}${extra}`;
    }
    write(line);
  }

  function condition(key: string, msg: string | undefined, level: Level = "warn"): void {
    const prev = active.get(key);
    if (msg === undefined) {
      if (prev === undefined) return;
      active.delete(key);
      log("info", key, `resolved (was: ${prev})`);
      return;
    }
    if (prev === msg) return;
    active.set(key, msg);
    log(level, key, msg);
  }

  return { log, condition };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = { log() {}, condition() {} };
