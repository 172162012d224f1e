/**
 * `main.ts check`: a preflight that names every problem an operator would otherwise meet one
 * log line at a time: the database and stats file (missing, not readable, not what they
 * should be, or not granted), the I/O counters (the getrusage fallback, as a warning), the
 * grants against the configuration, and the port. It reads with the same functions the
 * service uses, under the same grants (`deno task start check` runs it under the printed
 * flags).
 *
 * @module
 */

import type { Config } from "./config.ts";
import { procfsReader } from "../inputs/io_sampler.ts";
import { silentLogger } from "../base/log.ts";
import { permissionFlags } from "./permissions.ts";
import { isUnderProc } from "../inputs/proc_io.ts";
import { createSqliteStats } from "../inputs/sqlite_stats.ts";
import { createStatsCache } from "../inputs/stats_cache.ts";

/** One finding: fine, worth knowing, or a problem (the CLI exits 1 on any problem). */
export interface Finding {
  level: "ok" | "warn" | "problem";
  what: string;
  detail: string;
}

/** What the preflight asks of the runtime; injectable for tests. */
export interface PreflightProbes {
  /** Whether this process was granted reading `path` (a query, not an access). */
  readGranted: (path: string) => boolean;
  /** Whether this process was granted the net access `host:port` names. */
  netGranted: (hostPort: string) => boolean;
  /** Tries to listen on host:port and closes again: undefined when it could, else why not. */
  tryListen: (host: string, port: number) => string | undefined;
  /**
   * Whether a corescope-perf answers at host:port (a busy port may be this service's own
   * listener: `check` run inside its container): what it said, or undefined.
   */
  heldBy: (host: string, port: number) => Promise<string | undefined>;
}

const ok = (what: string, detail: string): Finding => ({ level: "ok", what, detail });
const problem = (what: string, detail: string): Finding => ({ level: "problem", what, detail });

function granted(name: "read" | "net", target: string): boolean {
  try {
    const q = name === "read"
      ? Deno.permissions.querySync({ name, path: target })
      : Deno.permissions.querySync({ name, host: target });
    return q.state === "granted";
  } catch {
    return false;
  }
}

/** The runtime's own probes. */
export const RUNTIME_PROBES: PreflightProbes = {
  readGranted: (path) => granted("read", path),
  netGranted: (hostPort) => granted("net", hostPort),
  tryListen(hostname, port) {
    try {
      Deno.listen({ hostname, port }).close();
      return undefined;
    } catch (err) {
      return (err as Error)?.name === "AddrInUse"
        ? `${hostname}:${port} is already in use`
        : `cannot listen on ${hostname}:${port}: ${(err as Error)?.message ?? err}`;
    }
  },
  async heldBy(hostname, port) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    try {
      const res = await fetch(`http://${host}:${port}/api/healthz`, {
        signal: AbortSignal.timeout(2000),
      });
      const text = await res.text();
      return heldByText(res.status, text);
    } catch {
      return undefined;
    }
  },
};

/**
 * What an answer from a busy port says of who holds it: a corescope-perf healthz (it carries
 * `ingest`, which CoreScope's own does not), ready or draining; undefined for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heldByText } from "./preflight.ts";
 * assert.equal(
 *   heldByText(200, '{"ready":true,"ingest":{"status":"ok"}}'),
 *   "a running corescope-perf (ready, ingest ok)",
 * );
 * assert.equal(heldByText(200, '{"ready":true}'), undefined);
 * ```
 */
export function heldByText(status: number, text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const { ready, ingest } = body as { ready?: unknown; ingest?: { status?: unknown } };
  if (typeof ready !== "boolean" || typeof ingest?.status !== "string") return undefined;
  const state = ready && status === 200 ? "ready" : "not ready";
  return `a running corescope-perf (${state}, ingest ${ingest.status.slice(0, 16)})`;
}

/** The address as Deno names it in a net grant. */
function hostPort(c: Config): string {
  const host = c.host.includes(":") ? `[${c.host}]` : c.host;
  return c.port === 0 ? host : `${host}:${c.port}`;
}

/** The database and the stats file: "not granted" before any read is tried. */
function files(config: Config, p: PreflightProbes): Finding[] {
  const out: Finding[] = [];
  if (!p.readGranted(config.dbPath)) {
    out.push(problem("database", `${config.dbPath}: not granted (--allow-read does not name it)`));
  } else {
    const db = createSqliteStats({ path: config.dbPath, log: silentLogger }).read();
    out.push(
      db.error === undefined
        ? ok("database", `${config.dbPath}: ${db.pageCount} pages of ${db.pageSize} bytes`)
        : problem("database", db.error),
    );
  }
  if (!p.readGranted(config.statsPath)) {
    out.push(
      problem("stats file", `${config.statsPath}: not granted (--allow-read does not name it)`),
    );
    return out;
  }
  const stats = createStatsCache({
    path: config.statsPath,
    maxBytes: config.maxStatsBytes,
    log: silentLogger,
  });
  const s = stats.get();
  stats.close();
  out.push(
    s.kind === "ok"
      ? ok("stats file", `${config.statsPath}: sampledAt ${s.snapshot.sampledAt ?? "(none)"}`)
      : problem("stats file", s.detail),
  );
  return out;
}

/** The I/O counters: the getrusage fallback works, but is a warning. */
function ioCounters(config: Config, p: PreflightProbes): Finding {
  if (config.procIoPath === "") {
    return ok("I/O counters", "getrusage, as procIoPath is empty (ioSource rusage, by choice)");
  }
  if (!isUnderProc(config.procIoPath) && !p.readGranted(config.procIoPath)) {
    return {
      level: "warn",
      what: "I/O counters",
      detail: `${config.procIoPath}: not granted; the service will use getrusage (ioSource rusage)`,
    };
  }
  const io = procfsReader(config.procIoPath).read();
  return io.ok ? ok("I/O counters", `${config.procIoPath} is readable (ioSource procfs)`) : {
    level: "warn",
    what: "I/O counters",
    detail: `${io.detail}: the service will use getrusage (ioSource rusage)`,
  };
}

/** The port: free, held by a running corescope-perf (this one's), or a problem. */
async function listen(config: Config, net: string, p: PreflightProbes): Promise<Finding> {
  const busy = p.tryListen(config.host, config.port);
  if (busy === undefined) return ok("listen", `${net} is free`);
  const held = busy.endsWith("already in use")
    ? await p.heldBy(config.host, config.port)
    : undefined;
  return held === undefined ? problem("listen", busy) : ok("listen", `${net} is held by ${held}`);
}

/**
 * Checks `config` and returns one finding per part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preflight } from "./preflight.ts";
 * import { DEFAULTS } from "./config.ts";
 * const probes = {
 *   readGranted: () => true,
 *   netGranted: () => true,
 *   tryListen: () => undefined,
 *   heldBy: () => Promise.resolve(undefined),
 * };
 * const cfg = { ...DEFAULTS, dbPath: "/nonexistent.db", statsPath: "/nonexistent.json" };
 * const f = await preflight(cfg, {}, probes);
 * assert.deepEqual(f.filter((x) => x.level === "problem").map((x) => x.what), [
 *   "database",
 *   "stats file",
 * ]);
 * ```
 */
export async function preflight(
  config: Config,
  inputs: { configPath?: string } = {},
  probes: PreflightProbes = RUNTIME_PROBES,
): Promise<Finding[]> {
  const out = [...files(config, probes), ioCounters(config, probes)];
  try {
    out.push(ok("grants", permissionFlags(config, inputs).join(" ")));
  } catch (err) {
    out.push(problem("grants", err instanceof Error ? err.message : String(err)));
  }
  const net = hostPort(config);
  if (!probes.netGranted(net)) {
    out.push(problem("listen", `${net}: not granted (--allow-net does not name it)`));
  } else {
    out.push(await listen(config, net, probes));
  }
  return out;
}
