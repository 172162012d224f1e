/**
 * Serving over `Deno.serve`, and a graceful stop on SIGTERM/SIGINT: stop accepting, let
 * in-flight requests finish, close the database, exit 0 within the bound.
 *
 * @module
 */

import { createHandler } from "../http/routes.ts";
import type { Services } from "../http/services.ts";
import { jsonResponse } from "../http/reply.ts";
import { type Config, ConfigError, isLoopback } from "./config.ts";
import type { Logger } from "../base/log.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime.ts";

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
 * import assert from "node:assert/strict";
 * import { listenUrl } from "./listener.ts";
 * assert.deepEqual(listenUrl("::1", 8080), "http://[::1]:8080/");
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
 * import { startServer } from "./listener.ts";
 * import { DEFAULTS } from "./config.ts";
 * import { silentLogger } from "../base/log.ts";
 * const s = startServer({ ...DEFAULTS, port: 0 }, silentLogger);
 * await s.stop();
 * ```
 */
export function startServer(config: Config, log: Logger, opts: RuntimeOptions = {}): RunningServer {
  const runtime = createRuntime(config, log, opts);
  const handler = createHandler(runtime.services);
  let url = "";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = serve(config, handler, log, (hostname, port) => {
      url = listenUrl(hostname, port);
      console.log(`corescope-perf listening on ${url}`);
      logStartup(config, runtime.services, log);
    });
  } catch (err) {
    runtime.close();
    throw bindError(config, err);
  }

  // Deno.serve ends its accept loop when an accept fails (EMFILE once descriptors run out):
  // shed the old server's idle connections and listen again on the same port, as soon as a
  // socket can be had, until we are stopped.
  const port = server.addr.port;
  let stopping: Promise<void> | undefined;
  const { promise: finished, resolve: done } = Promise.withResolvers<void>();
  const watch = (s: Deno.HttpServer<Deno.NetAddr>) =>
    s.finished.then(
      () => relisten("the listener closed"),
      (e) => relisten(String(e?.message ?? e)),
    );
  function relisten(why: string): void {
    if (stopping) return void stopping.then(() => done());
    log.log("error", "http", `${why}: listening again on port ${port}`);
    // Descriptors ran out: most likely idle or half-sent connections (slowloris; Deno.serve
    // has no header timeout). Shutting the old server down closes every connection with no
    // request in flight, which frees their descriptors; requests in flight still finish.
    const old = server;
    old.shutdown().catch(() => {});
    setTimeout(() => {
      if (stopping) return void stopping.then(() => done());
      try {
        server = serve({ ...config, port }, handler, log, () => {});
        log.log("info", "http", `listening again on port ${port}`);
        watch(server);
      } catch (err) {
        relisten(`listening again failed: ${(err as Error)?.message ?? err}`);
      }
    }, 250);
  }
  watch(server);
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
    port,
    runtime,
    stop,
    finished,
  };
}

/** The startup line, and a warning when the address reaches beyond this machine. */
function logStartup(config: Config, s: Services, log: Logger): void {
  log.log("info", "startup", `corescope-perf ${s.version}`, {
    stats: config.statsPath,
    db: config.dbPath,
    ioSource: s.ioRates().ioSource,
    staleAfterMs: config.staleAfterMs,
    receiptStaleAfterSec: config.receiptStaleAfterSec,
    writeStaleAfterSec: config.writeStaleAfterSec,
    logFormat: config.logFormat,
  });
  if (!isLoopback(config.host)) {
    log.log(
      "warn",
      "startup",
      `listening on ${config.host}, beyond this machine: anyone who reaches it reads broker host and user names, source names, database sizes and this service's figures (no passwords); allow only your Prometheus (the unit's IPAddressAllow=, a firewall) and name this host in allowedHosts`,
      { allowedHosts: s.allowedHosts.length > 0 ? s.allowedHosts.join(",") : "any" },
    );
  }
}

function serve(
  config: Config,
  handler: (req: Request) => Response | Promise<Response>,
  log: Logger,
  onListen: (hostname: string, port: number) => void,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => onListen(hostname, port),
    onError(err) {
      log.log("error", "http", `unhandled: ${(err as Error)?.message ?? err}`);
      return jsonResponse({ error: "internal error" }, 500);
    },
  }, handler);
}

/** A listen failure as a {@linkcode ConfigError} naming the address (the CLI exits 2). */
function bindError(config: Config, err: unknown): unknown {
  const addr = listenUrl(config.host, config.port).slice(7, -1);
  const name = (err as { name?: string })?.name;
  if (name === "AddrInUse") return new ConfigError("port", `${addr} is already in use`);
  if (name === "AddrNotAvailable" || name === "NotFound" || name === "NotCapable") {
    return new ConfigError("host", `cannot listen on ${addr}: ${(err as Error).message}`);
  }
  if (err instanceof Error) {
    return new ConfigError("host", `cannot listen on ${addr}: ${err.message}`);
  }
  return err;
}

/**
 * Guards the process against what must never end it: an error the runtime raises outside any
 * request (an accept that fails with EMFILE when descriptors run out) is logged, at most once
 * a minute per message, and the process goes on; SIGHUP is logged and ignored (there is
 * nothing to reload: restart to apply a new config); SIGUSR1, which makes Deno open an
 * unauthenticated debugger on 127.0.0.1:9229, gets that debugger closed again at once.
 */
export function guardProcess(log: Logger): void {
  const last = new Map<string, number>();
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    const msg = e.reason instanceof Error ? e.reason.message : String(e.reason);
    const now = Date.now();
    if ((last.get(msg) ?? -Infinity) > now - 60_000) return;
    last.set(msg, now);
    log.log("error", "runtime", `recovered: ${msg}`);
  });
  Deno.addSignalListener("SIGHUP", () => {
    log.log("warn", "signal", "SIGHUP ignored: nothing to reload (restart to apply a new config)");
  });
  Deno.addSignalListener("SIGUSR1", () => {
    log.log("warn", "signal", "SIGUSR1: closing the debugger Deno opens for it");
    // Loaded only now: node:inspector is not worth its memory for a signal that never comes.
    import("node:inspector").then(({ default: inspector }) => closeDebugger(inspector, log));
  });
}

/**
 * Closes the debugger Deno opens on SIGUSR1: the runtime opens it after the signal's listener
 * runs, so it is closed on the next turns, then said (the event an operator, and the test,
 * can wait for). Whether it was open cannot be asked: inspector.url() needs --allow-sys, which
 * is never granted.
 */
function closeDebugger(inspector: { close(): void }, log: Logger): void {
  const closes = [0, 1, 5, 20, 100];
  for (const ms of closes) {
    setTimeout(() => {
      try {
        inspector.close();
      } catch (err) {
        log.log(
          "error",
          "signal",
          `SIGUSR1: closing the debugger failed: ${(err as Error)?.message ?? err}`,
        );
      }
      if (ms === closes.at(-1)) log.log("info", "signal", "SIGUSR1: the debugger is closed");
    }, ms);
  }
}

/**
 * Stops `server` on SIGTERM or SIGINT and exits 0; exits anyway after `boundMs`, so a
 * stuck client cannot hold the process past the service manager's patience.
 *
 * @example
 * ```ts ignore
 * import { exitOnSignal, startServer } from "./listener.ts";
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

/**
 * Polls `GET /readyz` of the service `config` describes until it answers 200, for up to
 * `timeoutMs`. systemd's `ExecStartPost=` runs this so that units ordered after this one start
 * only once it is ready. Needs no grant beyond the service's own `--allow-net=HOST:PORT`.
 *
 * @example
 * ```ts ignore
 * import { waitReady } from "./listener.ts";
 * await waitReady(config); // true once GET /readyz answered 200
 * ```
 */
export async function waitReady(
  config: Pick<Config, "host" | "port">,
  timeoutMs = 10_000,
): Promise<boolean> {
  if (config.port === 0) {
    console.error("corescope-perf: wait-ready needs a fixed port, not 0");
    return false;
  }
  // The grant is --allow-net=HOST:PORT, so connect to exactly that (0.0.0.0 reaches loopback).
  const url = `${listenUrl(config.host, config.port)}readyz`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.error(`corescope-perf: ${url} was not ready within ${timeoutMs} ms`);
  return false;
}
