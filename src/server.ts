/**
 * Serving over `Deno.serve`, and a graceful stop on SIGTERM/SIGINT: stop accepting, let
 * in-flight requests finish, close the database, exit 0 within the bound.
 *
 * @module
 */

import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "./service.ts";

/** A listening service. */
export interface RunningServer {
  /** `http://HOST:PORT/` as printed. */
  url: string;
  port: number;
  runtime: Runtime;
  /** Drains and stops; resolves when the listener is closed and the database is closed. */
  stop(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Formats the URL a client should use; IPv6 hosts get brackets.
 *
 * @example
 * ```ts
 * import { listenUrl } from "./server.ts";
 * listenUrl("::1", 8080); // "http://[::1]:8080/"
 * ```
 */
export function listenUrl(hostname: string, port: number): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}/`;
}

/**
 * Starts the service for `config`. Prints `corescope-perf listening on URL` on stdout once
 * the socket is bound.
 *
 * @example
 * ```ts
 * import { startServer } from "./server.ts";
 * import { DEFAULTS } from "./config.ts";
 * import { silentLogger } from "./log.ts";
 * const s = startServer({ ...DEFAULTS, port: 0 }, silentLogger);
 * await s.stop();
 * ```
 */
export function startServer(config: Config, log: Logger, opts: RuntimeOptions = {}): RunningServer {
  const runtime = createRuntime(config, log, opts);
  const app = createApp(runtime.services);
  let url = "";
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen({ hostname, port }) {
      url = listenUrl(hostname, port);
      console.log(`corescope-perf listening on ${url}`);
    },
    onError(err) {
      log.log("error", "http", `unhandled: ${(err as Error)?.message ?? err}`);
      return new Response(JSON.stringify({ error: "internal error" }), {
        status: 500,
        headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
      });
    },
  }, app.fetch);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      runtime.drain("shutting down");
      await server.shutdown();
      runtime.close();
    })();

  return {
    get url() {
      return url;
    },
    port: server.addr.port,
    runtime,
    stop,
    finished: server.finished.then(() => stopping).then(() => {}),
  };
}

/**
 * Stops `server` on SIGTERM or SIGINT and exits 0; exits anyway after `boundMs`, so a
 * stuck client cannot hold the process past the service manager's patience.
 *
 * @example
 * ```ts ignore
 * import { exitOnSignal, startServer } from "./server.ts";
 * exitOnSignal(startServer(config, log), log);
 * ```
 */
export function exitOnSignal(server: RunningServer, log: Logger, boundMs = 1800): void {
  let signalled = false;
  const onSignal = (sig: Deno.Signal) => {
    if (signalled) return; // a second signal (a terminal's Ctrl-C, a supervisor) changes nothing
    signalled = true;
    log.log("info", "shutdown", `${sig}: draining`);
    const hard = setTimeout(() => {
      log.log("warn", "shutdown", `requests still open after ${boundMs} ms: exiting`);
      Deno.exit(0);
    }, boundMs);
    server.stop().then(() => {
      clearTimeout(hard);
      log.log("info", "shutdown", "stopped");
      Deno.exit(0);
    });
  };
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => onSignal(sig));
  }
}
