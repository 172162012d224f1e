/**
 * The exact Deno permission flags the service needs for one configuration, and nothing
 * more: reads of the stats file, the database (and its `-wal` and `-shm`, which it stats), the config
 * file and the I/O counter file when it is outside /proc; the one listen address; the
 * environment variables it reads; and `statfs`, the one system call of the `sys` group it
 * makes (the free space of the database's filesystem, for the disk forecast).
 *
 * @module
 */

import { assertGrantable, type Config, ENV_VARS } from "./config.ts";
import { isUnderProc } from "../inputs/proc_io.ts";
import { procSelfDir } from "../inputs/proc_io.ts";

/**
 * Flags never printed, bare or scoped, but the one scoped sys grant ({@linkcode SYS_GRANT}):
 * any of them would void the least-privilege promise.
 */
export const FORBIDDEN_FLAGS = [
  "-A",
  "--allow-all",
  "--allow-run",
  "--allow-ffi",
  "--allow-sys",
  "--allow-write",
  "--allow-import",
] as const;

/** The one `sys` grant: statfs(2) of the database file (Deno checks it as `sys`, not `read`). */
export const SYS_GRANT = "--allow-sys=statfs";

/** What besides the config decides the grants. */
export interface PermissionInputs {
  /** Absolute path of the config file, when one is used. */
  configPath?: string;
}

/**
 * Returns the flags, one per element, in a stable order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./permissions.ts";
 * import { DEFAULTS } from "./config.ts";
 * assert.deepEqual(permissionFlags({ ...DEFAULTS, statsPath: "/tmp/s.json", dbPath: "/data/m.db" }), [
 *   "--allow-read=/tmp/s.json,/data/m.db,/data/m.db-wal,/data/m.db-shm",
 *   "--allow-net=127.0.0.1:8080",
 *   "--allow-env=CORESCOPE_INGESTOR_STATS,CORESCOPE_PERF_API_KEY",
 *   "--allow-sys=statfs",
 * ]);
 * ```
 */
export function permissionFlags(config: Config, inputs: PermissionInputs = {}): string[] {
  const reads = [config.statsPath, config.dbPath, `${config.dbPath}-wal`, `${config.dbPath}-shm`];
  // Deno reads /proc only with --allow-all: a /proc path is never granted (getrusage instead).
  if (config.procIoPath !== "" && !isUnderProc(config.procIoPath)) reads.push(config.procIoPath);
  // The bound /proc/self directory's descriptor list and limits, for process_open_fds and
  // process_max_fds.
  const self = procSelfDir(config.procIoPath);
  if (self !== undefined) reads.push(`${self}/fd`, `${self}/limits`);
  if (inputs.configPath) reads.push(inputs.configPath);
  // Validated when the config was loaded; checked again for a config built by hand.
  assertGrantable("statsPath", config.statsPath);
  assertGrantable("dbPath", config.dbPath);
  if (config.procIoPath !== "") assertGrantable("procIoPath", config.procIoPath);
  if (inputs.configPath) assertGrantable("--config", inputs.configPath);
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  // Port 0 means "any free port": the grant must name the host alone.
  const net = config.port === 0 ? host : `${host}:${config.port}`;
  return [
    `--allow-read=${[...new Set(reads)].join(",")}`,
    `--allow-net=${net}`,
    `--allow-env=${ENV_VARS.join(",")}`,
    SYS_GRANT,
  ];
}
