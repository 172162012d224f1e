/**
 * corescope-perf entry point: parse flags and config, then serve (or print usage, the
 * version, the permission flags, a preflight check, or wait for readiness). Everything else
 * lives in src/.
 *
 * @module
 */

import { resolve } from "./src/base/paths.ts";
import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, loadConfig, parseCli, USAGE } from "./src/app/config.ts";
import { permissionFlags } from "./src/app/permissions.ts";

function fail(err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`corescope-perf: ${err.message}`);
  Deno.exit(2);
}

// The server, the database reader and their Node-compatibility imports load only for the
// commands that use them: `permissions` runs before every `deno task start`, and stays small.
async function main(argv: string[]): Promise<void> {
  let cli, config;
  try {
    cli = parseCli(argv);
    if (cli.command === "help") return console.log(USAGE);
    if (cli.command === "version") return console.log(`corescope-perf ${denoJson.version}`);
    config = loadConfig(cli, {
      readTextFile: (p) => Deno.readTextFileSync(p),
      env: (name) => Deno.env.get(name),
    });
  } catch (err) {
    fail(err);
  }
  const configPath = cli.configPath && resolve(cli.configPath);
  if (cli.command === "permissions") {
    const flags = permissionFlags(config, { configPath });
    if (!cli.print0) return console.log(flags.join("\n"));
    return writeAll(new TextEncoder().encode(flags.map((f) => `${f}\0`).join("")));
  }
  if (cli.command === "check") {
    const { preflight } = await import("./src/app/preflight.ts");
    const findings = await preflight(config, { configPath });
    const word = { ok: "ok     ", warn: "WARN   ", problem: "PROBLEM" } as const;
    for (const f of findings) console.log(`${word[f.level]} ${f.what}: ${f.detail}`);
    return Deno.exit(findings.some((f) => f.level === "problem") ? 1 : 0);
  }
  const { exitOnSignal, guardProcess, startServer, waitReady } = await import(
    "./src/app/listener.ts"
  );
  if (cli.command === "wait-ready") return Deno.exit((await waitReady(config)) ? 0 : 1);
  const { createLogger } = await import("./src/base/log.ts");
  const log = createLogger({ format: config.logFormat });
  guardProcess(log);
  try {
    exitOnSignal(startServer(config, log, { version: denoJson.version }), log);
  } catch (err) {
    fail(err);
  }
}

/** Writes all of `bytes` to stdout (a pipe may take them in parts). */
function writeAll(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

if (import.meta.main) await main(Deno.args);
