/**
 * `deno task simulate`: a simulated CoreScope ingestor writing a stats file and a database
 * where told, at 1 Hz, with the failures the real one meets, so an operator can rehearse the
 * verdicts and alerts of a running corescope-perf before a real failure does it for them.
 *
 * ```
 * deno task simulate --stats PATH --db PATH [FAULT ...]
 *   --broker-down NAME     the broker of source NAME (local, regional) drops (EOF)
 *   --broker-silent NAME   the broker of source NAME stays connected, delivers nothing
 *   --disk-full            every write fails (write_errors grow, rows flat)
 *   --clock-ms             unix stamps in milliseconds
 *   --clock-ahead SEC      the ingestor's clock SEC seconds ahead
 *   --hung                 the stats file is no longer rewritten
 *   --lock-burst EVERY:MS  a second writer holds the write lock MS ms every EVERY seconds
 *                          (under 5000 ms: contended, writes ok; at 5000 or more: they fail)
 *   --after SEC            the faults start SEC seconds after the start (default 0)
 * ```
 *
 * A locked database and a starved WAL are rehearsed for real: hold a write lock
 * (`sqlite3 DB 'BEGIN IMMEDIATE; SELECT sleep…'`) or a read transaction on the database.
 * Ctrl-C stops it; the files stay.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createSimulator, type SourceName } from "./simulator.ts";

/** Usage, printed for --help and on a bad flag. */
export const SIMULATE_USAGE =
  `usage: deno task simulate --stats PATH --db PATH [--broker-down NAME] [--broker-silent NAME]
       [--disk-full] [--clock-ms] [--clock-ahead SEC] [--hung] [--lock-burst EVERY:MS]
       [--after SEC]`;

/** What the command line asks for. */
export interface SimulateArgs {
  stats: string;
  db: string;
  after: number;
  apply: (sim: ReturnType<typeof createSimulator>) => string[];
}

/**
 * Parses the command line; throws an Error naming the flag when it is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSimulateArgs } from "./simulate.ts";
 * const a = parseSimulateArgs(["--stats", "/tmp/s.json", "--db", "/tmp/m.db", "--disk-full"]);
 * assert.equal(a.after, 0);
 * assert.throws(() => parseSimulateArgs(["--stats", "/tmp/s.json"]), /--db/);
 * assert.throws(() => parseSimulateArgs([..."--stats a --db b --lock-burst 10".split(" ")]), /EVERY:MS/);
 * ```
 */
export function parseSimulateArgs(argv: string[]): SimulateArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      stats: { type: "string" },
      db: { type: "string" },
      "broker-down": { type: "string", multiple: true },
      "broker-silent": { type: "string", multiple: true },
      "disk-full": { type: "boolean" },
      "clock-ms": { type: "boolean" },
      "clock-ahead": { type: "string" },
      hung: { type: "boolean" },
      "lock-burst": { type: "string" },
      after: { type: "string" },
    },
    strict: true,
  });
  if (!values.stats) throw new Error("--stats PATH is required");
  if (!values.db) throw new Error("--db PATH is required");
  const seconds = (flag: string, v: string | undefined) => {
    const n = Number(v ?? "0");
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be whole seconds`);
    return n;
  };
  const names = (flag: string, v: string[] | undefined): SourceName[] =>
    (v ?? []).map((n) => {
      if (n !== "local" && n !== "regional") throw new Error(`${flag}: local or regional`);
      return n;
    });
  const down = names("--broker-down", values["broker-down"]);
  const silent = names("--broker-silent", values["broker-silent"]);
  const ahead = seconds("--clock-ahead", values["clock-ahead"]);
  const burst = lockBurst(values["lock-burst"]);
  return {
    stats: values.stats,
    db: values.db,
    after: seconds("--after", values.after),
    apply(sim) {
      const on: string[] = [];
      for (const n of down) sim.brokerDown(n, true), on.push(`broker ${n} down`);
      for (const n of silent) sim.brokerSilent(n, true), on.push(`broker ${n} silent`);
      if (values["disk-full"]) sim.faults.diskFull = true, on.push("disk full");
      if (values["clock-ms"]) sim.faults.clockMs = true, on.push("clock in milliseconds");
      if (ahead > 0) sim.faults.clockAheadSec = ahead, on.push(`clock ${ahead} s ahead`);
      if (values.hung) sim.faults.hung = true, on.push("hung");
      if (burst) {
        sim.faults.lockBurst = burst;
        on.push(`the write lock held ${burst.holdMs} ms every ${burst.everySec} s`);
      }
      return on;
    },
  };
}

/** `EVERY:MS` of --lock-burst: whole seconds, whole milliseconds, both over 0. */
function lockBurst(v: string | undefined): { everySec: number; holdMs: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([1-9]\d{0,5}):([1-9]\d{0,6})$/.exec(v);
  if (!m) throw new Error("--lock-burst is EVERY:MS, e.g. 10:2000");
  return { everySec: Number(m[1]), holdMs: Number(m[2]) };
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help")) return console.log(SIMULATE_USAGE);
  let args: SimulateArgs;
  try {
    args = parseSimulateArgs(argv);
  } catch (err) {
    console.error(`simulate: ${(err as Error).message}\n${SIMULATE_USAGE}`);
    Deno.exit(2);
  }
  const sim = createSimulator({ statsPath: args.stats, dbPath: args.db });
  sim.start(1000);
  console.log(`simulate: writing ${args.stats} and ${args.db} at 1 Hz; Ctrl-C stops`);
  const fault = setTimeout(() => {
    const on = args.apply(sim);
    if (on.length > 0) console.log(`simulate: now ${on.join(", ")}`);
  }, args.after * 1000);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      clearTimeout(fault);
      sim.stop();
      Deno.exit(0);
    });
  }
  await new Promise(() => {});
}

if (import.meta.main) await main(Deno.args);
