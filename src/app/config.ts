/**
 * Configuration: defaults, then the config file, then `CORESCOPE_INGESTOR_STATS`, then
 * command-line flags. Every value is validated; a bad one is a {@linkcode ConfigError}
 * naming its key (the CLI exits 2 with it).
 *
 * @module
 */

import { isAbsolute, normalize, resolve } from "../base/paths.ts";

/** The service's settings. Paths are absolute after {@linkcode loadConfig}. */
export interface Config {
  host: string;
  port: number;
  statsPath: string;
  dbPath: string;
  procIoPath: string;
  staleAfterMs: number;
  maxStatsBytes: number;
  clockSkewMs: number;
  ioSampleMs: number;
  logFormat: "text" | "json";
  /** A source whose last broker receipt is older than this is not receiving. */
  receiptStaleAfterSec: number;
  /** A source whose last DB write is older than this is not writing. */
  writeStaleAfterSec: number;
  /** The window over which the write counters are compared (write_failing). */
  writeWindowSec: number;
  /** The WAL not reset for this long while it grows: checkpoint_starved. */
  walResetStaleAfterSec: number;
  /** A writer-lock wait (or the ingest's hold) p99 at or over this, ms, moving: contended. */
  writerLockMs: number;
  /** Writes that waited over 100 ms for the writer lock, this many within the window: contended. */
  writerContentionCount: number;
  /** The disk is low when full within this many hours at the recent rate. */
  diskLowHours: number;
  /** The disk is low under this much free space, MiB. */
  diskLowMiB: number;
  /** The disk forecast's window, seconds: the rates are taken over it. */
  diskWindowSec: number;
  /** Requests slower than this are kept in /api/perf's list of slow requests. */
  slowRequestMs: number;
  /** Key for POST /api/perf/reset; empty disables it. */
  apiKey: string;
  /**
   * Host names a request's `Host` may name (no port). Empty: the loopback names when `host`
   * is a loopback address, the bound address itself otherwise, and any name on a wildcard.
   */
  allowedHosts: string[];
}

/** Defaults, as documented in config.example.json and the README. */
export const DEFAULTS: Readonly<Config> = Object.freeze({
  host: "127.0.0.1",
  port: 8080,
  statsPath: "/tmp/corescope-ingestor-stats.json",
  dbPath: "/var/lib/corescope/meshcore.db",
  procIoPath: "/proc/self/io",
  staleAfterMs: 5000,
  maxStatsBytes: 262144,
  clockSkewMs: 2000,
  ioSampleMs: 1000,
  logFormat: "text",
  receiptStaleAfterSec: 120,
  writeStaleAfterSec: 120,
  writeWindowSec: 30,
  walResetStaleAfterSec: 120,
  writerLockMs: 1000,
  writerContentionCount: 3,
  diskLowHours: 24,
  diskLowMiB: 256,
  diskWindowSec: 3600,
  slowRequestMs: 100,
  apiKey: "",
  allowedHosts: [],
});

/** The environment variables the service reads. */
export const ENV_VARS = ["CORESCOPE_INGESTOR_STATS", "CORESCOPE_PERF_API_KEY"] as const;

/**
 * A bad setting; `key` names it (the CLI prints the message and exits 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "./config.ts";
 * const e = new ConfigError("port", "must be an integer from 0 to 65535");
 * assert.equal(e.message, "port: must be an integer from 0 to 65535");
 * assert.equal(e.key, "port");
 * ```
 */
export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = "ConfigError";
  }
}

/** What the command line asks for. */
export interface Cli {
  command: "serve" | "help" | "version" | "permissions" | "wait-ready" | "check";
  configPath?: string;
  /** `permissions --print0`: the flags NUL-terminated, for scripts that must not split them. */
  print0?: boolean;
  /** Flag values, by config key, still as strings. */
  flags: Partial<Record<keyof Config, string>>;
}

const FLAG_KEYS = {
  host: "host",
  port: "port",
  stats: "statsPath",
  db: "dbPath",
  "proc-io": "procIoPath",
  "log-format": "logFormat",
} as const satisfies Record<string, keyof Config>;

const SUBCOMMANDS = ["permissions", "wait-ready", "check"] as const;

/** Usage text for `--help`. */
export const USAGE = `corescope-perf: perf and health endpoints for a CoreScope deployment

Usage:
  main.ts [--config FILE] [--host H] [--port N] [--stats PATH] [--db PATH]
          [--proc-io PATH] [--log-format text|json]
  main.ts check [same flags]         preflight: name every problem with the database, the
                                     stats file, the I/O counters and the grants; exit 1 if any
  main.ts permissions [same flags]   print the Deno permission flags this config needs, one a
                                     line (--print0: each ended by NUL, for scripts)
  main.ts wait-ready [same flags]    wait (up to 10 s) until the service at HOST:PORT is ready;
                                     exit 0 when it is, 1 when not (systemd ExecStartPost)
  main.ts --help | --version

Environment: CORESCOPE_INGESTOR_STATS overrides statsPath (flags override it);
CORESCOPE_PERF_API_KEY overrides apiKey.
Port 0 picks a free port.`;

/**
 * Parses command-line arguments with `node:util`'s `parseArgs`: `--flag value` and
 * `--flag=value`; a subcommand may stand anywhere (a compiled binary puts its baked-in flags
 * first). A bad argument is a {@linkcode ConfigError} naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./config.ts";
 * assert.deepEqual(parseCli(["--port", "0", "--db=/data/m.db"]), {
 *   command: "serve",
 *   flags: { port: "0", dbPath: "/data/m.db" },
 * });
 * ```
 */
export function parseCli(argv: readonly string[]): Cli {
  const { values, positionals } = parseFlags(argv);
  if (values.help) return { command: "help", flags: {} };
  if (values.version) return { command: "version", flags: {} };
  const cli: Cli = { command: "serve", flags: {} };
  for (const p of positionals) {
    if (cli.command !== "serve" || !(SUBCOMMANDS as readonly string[]).includes(p)) {
      throw new ConfigError(p, "unknown argument (see --help)");
    }
    cli.command = p as Cli["command"];
  }
  if (values.config !== undefined) cli.configPath = values.config as string;
  if (values.print0) {
    if (cli.command !== "permissions") throw new ConfigError("--print0", "only with permissions");
    cli.print0 = true;
  }
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = values[flag];
    if (typeof v === "string") cli.flags[key] = v;
  }
  return cli;
}

/** Flags that take no value. */
const SWITCHES = new Set(["help", "version", "print0"]);
/** The one-letter spellings of two of them. */
const SHORT = new Map([["-h", "help"], ["-V", "version"]]);
/** Flags that take a value. */
const VALUED = new Set(["config", ...Object.keys(FLAG_KEYS)]);

/**
 * Splits arguments into flags (`--name value`, `--name=value`, `--switch`, `-h`) and
 * positionals, strictly: an unknown flag, a value that is missing or looks like a flag, or a
 * value given to a switch is a {@linkcode ConfigError} naming the argument. After `--` all is
 * positional.
 */
function parseFlags(argv: readonly string[]) {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") ? arg.slice(2, eq === -1 ? undefined : eq) : SHORT.get(arg);
    const shown = eq === -1 ? arg : arg.slice(0, eq);
    if (name !== undefined && SWITCHES.has(name)) {
      if (eq !== -1) throw new ConfigError(shown, "takes no value");
      values[name] = true;
    } else if (name !== undefined && VALUED.has(name)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq === -1 && value.startsWith("-") && value !== "-")) {
        throw new ConfigError(shown, "needs a value");
      }
      values[name] = value;
    } else throw new ConfigError(shown, "unknown argument (see --help)");
  }
  return { values, positionals };
}

type Check = (key: string, v: unknown) => unknown;

const str: Check = (key, v) => {
  if (typeof v !== "string" || v === "") throw new ConfigError(key, "must be a non-empty string");
  return v;
};
/** A host: a non-empty string that can be granted (`--allow-net=HOST:PORT`). */
const host: Check = (key, v) => {
  const h = str(key, v) as string;
  assertGrantable(key, h, "host");
  return h;
};
// Control characters: C0 (newline, carriage return, NUL...), DEL and C1. A value holding one
// could split a flag where a shell or a unit file reads it, or hide itself in a log.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Refuses a value no setting may hold: a control character (C0, DEL, C1), wherever the value
 * comes from. The one place this rule is written; `key` names the setting (or flag).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertPlain, ConfigError } from "./config.ts";
 * assert.throws(() => assertPlain("statsPath", "/tmp/s.json\n--allow-run"), ConfigError);
 * assertPlain("statsPath", "/tmp/a b.json");
 * ```
 */
export function assertPlain(key: string, v: string): void {
  const m = CONTROL.exec(v);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).padStart(4, "0");
    throw new ConfigError(key, `holds a control character (U+${code}), which no setting may`);
  }
}

/**
 * Refuses a path or address Deno could not grant exactly: it splits grant lists on commas,
 * and a control character could split the flag itself. `key` names the setting (or flag).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertGrantable, ConfigError } from "./config.ts";
 * assert.throws(() => assertGrantable("--config", "/x,y/c.json"), ConfigError);
 * assert.throws(() => assertGrantable("host", "127.0.0.1\r--inspect"), ConfigError);
 * ```
 */
export function assertGrantable(key: string, p: string, what = "path"): void {
  assertPlain(key, p);
  if (p.includes(",")) {
    throw new ConfigError(key, `${p}: a ${what} holding a comma cannot be granted`);
  }
}

const path: Check = (key, v) => {
  const p = str(key, v) as string;
  assertGrantable(key, p);
  if (isAbsolute(p)) return normalize(p);
  try {
    return resolve(p); // needs the working directory, which a scoped grant may hide
  } catch {
    throw new ConfigError(key, "must be an absolute path");
  }
};
const int = (min: number, max: number): Check => (key, v) => {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `must be an integer from ${min} to ${max}`);
  }
  return n;
};
const oneOf = (...allowed: string[]): Check => (key, v) => {
  if (typeof v !== "string" || !allowed.includes(v)) {
    throw new ConfigError(key, `must be one of ${allowed.join(", ")}`);
  }
  return v;
};

const CHECKS: Record<keyof Config, Check> = {
  host,
  port: int(0, 65535),
  statsPath: path,
  dbPath: path,
  // Empty: count this process's I/O by getrusage, by choice (a container: no /proc bind mount).
  procIoPath: (key, v) => v === "" ? "" : path(key, v),
  staleAfterMs: int(1, 86_400_000),
  // Parsing is synchronous (about 40 ms per MiB for the costliest shape, a map of short names):
  // at most 1 MiB keeps both a request's wait and memory bounded.
  maxStatsBytes: int(1024, 1048576),
  clockSkewMs: int(0, 3_600_000),
  ioSampleMs: int(100, 60_000),
  logFormat: oneOf("text", "json"),
  receiptStaleAfterSec: int(1, 86_400 * 30),
  writeStaleAfterSec: int(1, 86_400 * 30),
  writeWindowSec: int(10, 3600),
  walResetStaleAfterSec: int(10, 86_400),
  writerLockMs: int(1, 60_000),
  writerContentionCount: int(1, 1_000_000),
  diskLowHours: int(1, 24 * 365),
  diskLowMiB: int(0, 1024 * 1024),
  diskWindowSec: int(60, 86_400 * 7),
  slowRequestMs: int(1, 60_000),
  allowedHosts: (key, v) => {
    if (!Array.isArray(v) || !v.every((h) => typeof h === "string" && h !== "")) {
      throw new ConfigError(key, "must be an array of host names");
    }
    for (const h of v) assertGrantable(key, h, "host");
    return v.map((h: string) => h.toLowerCase());
  },
  apiKey: (key, v) => {
    if (typeof v !== "string") throw new ConfigError(key, "must be a string");
    assertPlain(key, v);
    if (v !== "" && v.length < 16) {
      throw new ConfigError(key, "must be empty or at least 16 characters");
    }
    return v;
  },
};

/** Where {@linkcode loadConfig} gets the config file and environment; injectable. */
export interface ConfigSources {
  readTextFile: (path: string) => string;
  env: (name: string) => string | undefined;
}

/**
 * Builds the config from defaults, file, environment and flags, in that order.
 * Keys starting with `_` in the file are comments and ignored; any other unknown key is an
 * error (a typo must not silently fall back to a default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * const cfg = loadConfig({ command: "serve", flags: { port: "0" } }, {
 *   readTextFile: () => "{}",
 *   env: () => undefined,
 * });
 * assert.equal(cfg.port, 0);
 * assert.equal(cfg.host, "127.0.0.1");
 * ```
 */
export function loadConfig(cli: Cli, sources: ConfigSources): Config {
  const raw: Record<string, unknown> = { ...DEFAULTS };
  if (cli.configPath !== undefined) {
    assertGrantable("--config", cli.configPath);
    let text: string;
    try {
      text = sources.readTextFile(cli.configPath);
    } catch (err) {
      throw new ConfigError("--config", `cannot read ${cli.configPath}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      // V8 quotes the file in its messages, and the file may hold the API key: say where.
      throw new ConfigError("--config", `${cli.configPath} is not JSON ${whereInJson(err)}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new ConfigError("--config", `${cli.configPath} must hold a JSON object`);
    }
    for (const [k, v] of Object.entries(doc)) {
      if (k.startsWith("_")) continue;
      if (!Object.hasOwn(CHECKS, k)) {
        const shown = CONTROL.test(k) || k.length > 64 ? "a key" : k;
        throw new ConfigError(shown, "unknown config key");
      }
      raw[k] = v;
    }
  }
  const envStats = sources.env("CORESCOPE_INGESTOR_STATS");
  if (envStats) raw.statsPath = envStats;
  const envKey = sources.env("CORESCOPE_PERF_API_KEY");
  if (envKey) raw.apiKey = envKey;
  Object.assign(raw, cli.flags);
  const out: Record<string, unknown> = {};
  for (const [k, check] of Object.entries(CHECKS)) out[k] = check(k, raw[k]);
  return out as unknown as Config;
}

/**
 * Where a JSON parse failed, from V8's message, without its quote of the text: `at line 3,
 * column 5`, `at byte 42`, or nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whereInJson } from "./config.ts";
 * let err;
 * try {
 *   JSON.parse('{"apiKey": "s3cret-key-0123456789" x}');
 * } catch (e) {
 *   err = e;
 * }
 * assert.equal(whereInJson(err), "(at line 1, column 36)");
 * ```
 */
export function whereInJson(err: unknown): string {
  const msg = err instanceof Error ? err.message : "";
  const lc = /line (\d+) column (\d+)/.exec(msg);
  if (lc) return `(at line ${lc[1]}, column ${lc[2]})`;
  const pos = /position (\d+)/.exec(msg);
  return pos ? `(at byte ${pos[1]})` : "(it ends too soon or holds no JSON)";
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/**
 * Whether `host` is a loopback address or name: binding anything else exposes the service
 * beyond this machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./config.ts";
 * assert.equal(isLoopback("127.0.0.5"), true);
 * assert.equal(isLoopback("0.0.0.0"), false);
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || h.startsWith("127.");
}

/**
 * The host names a request may name: `allowedHosts` when set; else the loopback names for a
 * loopback bind, nothing to check (any) for a wildcard bind, and the address itself
 * otherwise. A DNS name that rebinds to this address is refused unless listed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowedHostsOf } from "./config.ts";
 * assert.deepEqual(allowedHostsOf({ host: "127.0.0.1", allowedHosts: [] }), [
 *   "localhost", "127.0.0.1", "[::1]",
 * ]);
 * assert.deepEqual(allowedHostsOf({ host: "0.0.0.0", allowedHosts: [] }), []);
 * assert.deepEqual(allowedHostsOf({ host: "0.0.0.0", allowedHosts: ["perf.lan"] }), ["perf.lan"]);
 * ```
 */
export function allowedHostsOf(c: Pick<Config, "host" | "allowedHosts">): string[] {
  if (c.allowedHosts.length > 0) return c.allowedHosts;
  const h = c.host.toLowerCase();
  if (h === "0.0.0.0" || h === "::" || h === "[::]") return [];
  const self = h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
  if (LOOPBACK.includes(self)) return [...LOOPBACK];
  return self.startsWith("127.") ? [...LOOPBACK, self] : [self];
}
