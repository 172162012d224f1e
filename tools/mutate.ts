/**
 * `deno task mutate [MODULE ...]`: mutation testing of the core modules with StrykerJS. Each
 * module is mutated alone (a flipped comparison, a dropped branch, a changed constant, one at
 * a time) against its own tests, run by `deno test` (Stryker's command runner), and a mutant
 * that no test notices survives. Prints the score per module and every surviving mutant, and
 * writes the table to dist/mutation/summary.md (docs/development.md keeps the last one).
 *
 * StrykerJS 10 refuses Node 20 but runs under Deno: it is installed once with npm into
 * `$XDG_CACHE_HOME/corescope-perf/stryker-<version>` (the one fetch, from the npm registry) and
 * its `bin/stryker.js` runs under `deno run -A` (this tool's child, never the service). Not in
 * CI: two cores take about 80 minutes for every module (verdicts, config, mask and the stats
 * snapshot about 14 each).
 *
 * @module
 */

/** The pinned StrykerJS. */
export const STRYKER_VERSION = "10.1.1";

/** Each core module and the tests that pin its behaviour (their slow load tests left out). */
export const MODULES: Record<string, { tests: string[] }> = {
  "src/judge/verdicts.ts": { tests: ["tests/verdicts_test.ts", "tests/ingest_watch_test.ts"] },
  "src/judge/ingest_watch.ts": { tests: ["tests/ingest_watch_test.ts"] },
  "src/judge/freshness.ts": { tests: ["tests/freshness_test.ts"] },
  "src/judge/disk_forecast.ts": { tests: ["tests/disk_forecast_test.ts"] },
  "src/judge/history.ts": { tests: ["tests/history_test.ts"] },
  "src/inputs/stats_snapshot.ts": { tests: ["tests/stats_snapshot_test.ts"] },
  "src/inputs/sqlite_header.ts": {
    tests: ["tests/sqlite_header_test.ts", "tests/sqlite_stats_test.ts"],
  },
  "src/inputs/sqlite_stats.ts": { tests: ["tests/sqlite_stats_test.ts"] },
  "src/inputs/proc_io.ts": { tests: ["tests/proc_io_test.ts"] },
  "src/base/mask.ts": { tests: ["tests/mask_test.ts"] },
  "src/base/safe_read.ts": {
    tests: ["tests/safe_read_test.ts", "tests/stats_cache_test.ts", "tests/sqlite_stats_test.ts"],
  },
  "src/http/metrics.ts": { tests: ["tests/metrics_test.ts"] },
  "src/http/request_guard.ts": { tests: ["tests/request_guard_test.ts"] },
  "src/http/response_budget.ts": { tests: ["tests/response_budget_test.ts"] },
  "src/app/config.ts": { tests: ["tests/config_test.ts"] },
};

/** The test task's grants, so the tests run as `deno task test` runs them. */
const GRANTS = [
  "--allow-read",
  "--allow-write",
  "--allow-net=127.0.0.1",
  "--allow-env",
  "--allow-run",
  "--allow-sys=statfs",
];

/**
 * The Stryker configuration for one module: its doc tests and its test files, type checks off
 * (Stryker's instrumented code is not typed), every mutant run against every test of the set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strykerConfig } from "./mutate.ts";
 * const c = strykerConfig("src/judge/freshness.ts", { tests: ["tests/freshness_test.ts"] }, "/tmp/r.json");
 * assert.deepEqual(c.mutate, ["src/judge/freshness.ts"]);
 * assert.match(c.commandRunner.command, /^deno test --no-check .* --doc src\/judge\/freshness.ts tests\/freshness_test.ts$/);
 * ```
 */
export function strykerConfig(
  module: string,
  spec: { tests: string[] },
  report: string,
) {
  return {
    mutate: [module],
    testRunner: "command",
    commandRunner: {
      command: ["deno test --no-check", ...GRANTS, "--doc", module, ...spec.tests]
        .join(" "),
    },
    coverageAnalysis: "off",
    reporters: ["clear-text", "json"],
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: false },
    jsonReporter: { fileName: report },
    concurrency: 2,
    tempDirName: ".stryker-tmp",
    ignorePatterns: ["dist", "tests/artifacts", ".git", ".demo", "node_modules"],
    timeoutMS: 30_000,
    cleanTempDir: true,
  };
}

/** One mutant as the JSON report has it. */
interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}

/** Killed (or timed out) over all that ran; the survivors. */
export function scoreOf(mutants: Mutant[]): { score: number; ran: number; survived: Mutant[] } {
  const ran = mutants.filter((m) =>
    ["Killed", "Timeout", "Survived", "NoCoverage"].includes(m.status)
  );
  const killed = ran.filter((m) => m.status === "Killed" || m.status === "Timeout").length;
  const survived = ran.filter((m) => m.status === "Survived" || m.status === "NoCoverage");
  return { score: ran.length ? (100 * killed) / ran.length : 100, ran: ran.length, survived };
}

async function run(cmd: string[], env?: Record<string, string>): Promise<number> {
  const p = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    stdout: "inherit",
    stderr: "inherit",
  });
  return (await p.output()).code;
}

/** Stryker's bin, installed once into the cache. */
async function stryker(): Promise<string> {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
  const dir = `${cache}/corescope-perf/stryker-${STRYKER_VERSION}`;
  const bin = `${dir}/node_modules/@stryker-mutator/core/bin/stryker.js`;
  try {
    Deno.statSync(bin);
  } catch {
    Deno.mkdirSync(dir, { recursive: true });
    console.log(`mutate: installing @stryker-mutator/core@${STRYKER_VERSION} into ${dir}`);
    const code = await run([
      "npm",
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--silent",
      `@stryker-mutator/core@${STRYKER_VERSION}`,
    ]);
    if (code !== 0) throw new Error(`npm install failed (${code})`);
  }
  return bin;
}

async function main(args: string[]): Promise<void> {
  const chosen = args.length ? args : Object.keys(MODULES);
  for (const m of chosen) if (!MODULES[m]) throw new Error(`not a core module: ${m}`);
  const bin = await stryker();
  const out = "dist/mutation";
  Deno.mkdirSync(out, { recursive: true });
  const rows: string[] = [];
  for (const module of chosen) {
    const name = module.split("/").at(-1)!.replace(/\.ts$/, "");
    const report = `${Deno.cwd()}/${out}/${name}.json`;
    const config = `${out}/${name}.stryker.json`;
    Deno.writeTextFileSync(
      config,
      JSON.stringify(strykerConfig(module, MODULES[module]!, report), null, 2),
    );
    const t0 = performance.now();
    // The slow load tests among a module's tests are ignored (tests/_helpers.ts MUTATING):
    // Deno's --filter cannot exclude (its regexes have no lookahead), so an env var does it.
    const code = await run([Deno.execPath(), "run", "-A", bin, "run", config], {
      CORESCOPE_PERF_MUTATE: "1",
    });
    if (code !== 0) {
      // One module's failed dry run (a red test) must not cost the others' results.
      console.log(`mutate: stryker failed on ${module} (exit ${code}); its tests must pass first`);
      rows.push(`| \`${module}\` | failed | | | |`);
      continue;
    }
    const json = JSON.parse(Deno.readTextFileSync(report));
    const mutants: Mutant[] = Object.values(json.files as Record<string, { mutants: Mutant[] }>)
      .flatMap((f) => f.mutants);
    const { score, ran, survived } = scoreOf(mutants);
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    rows.push(
      `| \`${module}\` | ${score.toFixed(1)} % | ${ran} | ${survived.length} | ${secs} s |`,
    );
    for (const s of survived) {
      console.log(
        `survived ${module}:${s.location.start.line}:${s.location.start.column} ${s.mutatorName} ${
          JSON.stringify(s.replacement ?? "")
        }`,
      );
    }
  }
  const table = [
    "| module | score | mutants | survived | time |",
    "| ------ | ----- | ------- | -------- | ---- |",
    ...rows,
  ].join("\n");
  Deno.writeTextFileSync(`${out}/summary.md`, `${table}\n`);
  console.log(`\n${table}`);
}

if (import.meta.main) await main(Deno.args);
