/**
 * `deno task demo`: a temporary CoreScope-shaped database and a simulated ingestor writing
 * its stats file at 1 Hz, with the service serving both on 127.0.0.1:8080. Ctrl-C removes
 * everything it made.
 *
 * @module
 */

import { join, resolve } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { ConfigError, DEFAULTS, loadConfig, parseCli } from "../src/app/config.ts";
import { createLogger } from "../src/base/log.ts";
import { startServer } from "../src/app/listener.ts";
import { createSimulator } from "./simulator.ts";

/**
 * Seconds of every minute the simulated "regional" broker is down in the demo, so the
 * dashboard shows a `disconnected` source (and its last error) come and go.
 */
export const DEMO_BROKER_DOWN_SEC = 15;

/** Endpoints printed for the user to try. */
export const DEMO_PATHS = [
  "/",
  "/metrics",
  "/api/healthz",
  "/api/perf/io",
  "/api/perf/sqlite",
  "/api/perf/write-sources",
  "/api/mqtt/status",
];

async function demo(argv: string[]): Promise<void> {
  // The demo keeps its files under .demo/ beside deno.json: its write grant names only that.
  const base = resolve(".demo");
  await Deno.mkdir(base, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: base, prefix: "run-" });
  const statsPath = join(dir, "ingestor-stats.json");
  const dbPath = join(dir, "meshcore.db");
  let config;
  try {
    const cli = parseCli(argv);
    config = loadConfig(cli, { readTextFile: Deno.readTextFileSync, env: () => undefined });
    config = {
      ...config,
      statsPath,
      dbPath,
      host: cli.flags.host === undefined ? DEFAULTS.host : config.host,
    };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (!(err instanceof ConfigError)) throw err;
    console.error(`demo: ${err.message}`);
    Deno.exit(2);
  }
  const log = createLogger({ format: config.logFormat });
  let server;
  try {
    server = startServer(config, log, { version: denoJson.version });
  } catch (err) {
    // Nothing of the demo's may outlive it, also when the port is taken.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    console.error(`demo: ${err instanceof Error ? err.message : err}`);
    Deno.exit(2);
  }
  const sim = createSimulator({
    statsPath,
    dbPath,
    brokerDownSecondsPerMinute: DEMO_BROKER_DOWN_SEC,
  });
  sim.start(1000);
  const root = server.url.replace(/\/$/, "");
  console.log(`demo: simulated ingestor writing ${statsPath} at 1 Hz (the broker of "regional"`);
  console.log(`demo: drops ${DEMO_BROKER_DOWN_SEC} s of every minute); database ${dbPath}. Try:`);
  for (const p of DEMO_PATHS) console.log(`  curl -s ${root}${p}`);
  console.log("demo: Ctrl-C stops and removes the demo files.");

  let cleaning = false;
  const cleanup = async () => {
    if (cleaning) return; // a terminal's Ctrl-C may arrive through more than one signal
    cleaning = true;
    sim.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, cleanup);
}

if (import.meta.main) await demo(Deno.args);
