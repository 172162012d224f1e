/**
 * corescope-perf entry point: parse flags and config, then serve (or print usage, the
 * version, or the permission flags). Everything else lives in src/.
 *
 * @module
 */

import { resolve } from "node:path";
import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, loadConfig, parseCli, USAGE } from "./src/config.ts";
import { createLogger } from "./src/log.ts";
import { permissionFlags } from "./src/permissions.ts";
import { exitOnSignal, startServer, waitReady } from "./src/server.ts";

function main(argv: string[]): void {
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
    if (!(err instanceof ConfigError)) throw err;
    console.error(`corescope-perf: ${err.message}`);
    Deno.exit(2);
  }
  if (cli.command === "permissions") {
    const configPath = cli.configPath && resolve(cli.configPath);
    return console.log(permissionFlags(config, { configPath }).join("\n"));
  }
  if (cli.command === "wait-ready") {
    return void waitReady(config).then((ok) => Deno.exit(ok ? 0 : 1));
  }
  const log = createLogger({ format: config.logFormat });
  exitOnSignal(startServer(config, log), log);
}

if (import.meta.main) main(Deno.args);
