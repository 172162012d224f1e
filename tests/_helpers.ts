/** Shared test helpers: the shared fixture, temp dirs, a capturing logger. */

import { join } from "node:path";
import { createLogger, type Logger } from "../src/base/log.ts";
import { DEFAULTS } from "../src/app/config.ts";
import { policyOf } from "../src/app/runtime.ts";

/** The ingestor stats fixture: a realistic stats file as the ingestor writes it, with fake broker passwords. */
/**
 * Set by `deno task mutate`, which runs a module's tests once per mutant: the few slow load
 * tests among them (seconds each, pinning no line of the mutated module that a unit test does
 * not) are ignored there, and only there.
 */
export const MUTATING = (() => {
  try {
    return Deno.env.get("CORESCOPE_PERF_MUTATE") === "1";
  } catch {
    return false; // a test file run without --allow-env: not under deno task mutate
  }
})();

/** `def`, ignored under `deno task mutate` only (see {@linkcode MUTATING}). */
export function ignoredWhileMutating(def: Deno.TestDefinition): Deno.TestDefinition {
  return MUTATING ? { ...def, ignore: true } : def;
}

export const FIXTURE_PATH = new URL("./fixtures/ingestor-stats.json", import.meta.url);

/** Fixture text with every `sampledAt` rewritten to `iso`. */
export function fixtureText(iso: string): string {
  const text = Deno.readTextFileSync(FIXTURE_PATH);
  return text.replaceAll("2026-11-23T12:00:00Z", iso);
}

/** Fixture as an object with `sampledAt` stamps at `iso`. */
export function fixture(iso: string): Record<string, unknown> {
  return JSON.parse(fixtureText(iso));
}

/** RFC 3339 without milliseconds, as the ingestor writes it. */
export function isoSec(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A fresh temp directory (under TMPDIR, or under `base`), removed by the returned disposer.
 */
export function tempDir(base?: string): {
  dir: string;
  path: (name: string) => string;
  [Symbol.dispose](): void;
} {
  const dir = Deno.makeTempDirSync({
    prefix: "corescope-perf-test-",
    ...(base ? { dir: base } : {}),
  });
  return {
    dir,
    path: (name: string) => join(dir, name),
    [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }),
  };
}

/** A logger that keeps its lines. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: () => 0 });
  return Object.assign(log, { lines });
}

/** Arguments that point main.ts at a stats file and database in `dir`, on a free port. */
export function serviceArgs(dir: { path: (name: string) => string }): string[] {
  return ["--port", "0", "--stats", dir.path("s.json"), "--db", dir.path("m.db")];
}

/**
 * Resolves once `cond()` holds, checking every 10 ms; rejects after `timeoutMs` naming
 * `what`. For conditions no event announces (a process's memory, a peer's state).
 */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The judge's policy the in-process tests use: the defaults, short clock thresholds (60 s). */
export const TEST_POLICY = {
  ...policyOf(DEFAULTS),
  receiptStaleAfterSec: 60,
  writeStaleAfterSec: 60,
};

/** A stand-in for CoreScope's own server: answers every path with its own name. */
export function standInCoreScope(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => Response.json({ from: "corescope", path: new URL(req.url).pathname }),
  );
}

/** Resolves once `url` answers at all (a proxy that has just started); false after 5 s. */
export async function answers(url: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
