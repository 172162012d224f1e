/**
 * One line per event, with a level, as text or JSON lines (for journald and log shippers).
 * Every line is credential-masked before it is written. A persisting condition is logged
 * when it starts and when it ends, not on every request.
 *
 * @module
 */

import { maskCredentials } from "./mask.ts";

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
  /** Lines below this level are dropped. */
  minLevel?: Level;
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
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => 0 });
 * log.condition("stats", "stats file missing", "warn");
 * log.condition("stats", "stats file missing", "warn"); // silent: still the same
 * log.condition("stats", undefined); // "stats: resolved"
 * console.log(lines.length); // 2
 * ```
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "text";
  const write = opts.write ?? stderrWrite;
  const now = opts.now ?? Date.now;
  const min = RANK[opts.minLevel ?? "info"];
  const active = new Map<string, string>();

  function log(level: Level, event: string, msg: string, fields: Fields = {}): void {
    if (RANK[level] < min) return;
    const ts = new Date(now()).toISOString();
    let line: string;
    if (format === "json") {
      line = JSON.stringify({ ts, level, event, msg, ...fields });
    } else {
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
        .join("");
      line = `${ts} ${level.toUpperCase()} ${event}: ${msg}${extra}`;
    }
    write(maskCredentials(line));
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
