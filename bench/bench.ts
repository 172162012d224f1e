/**
 * `deno task bench`: the service (under its production permission flags and V8 flags, against
 * a live simulated ingestor writing its stats file and database once a second) beside a bare
 * `Deno.serve` under the same V8 flags that sends exactly the same status, headers and body
 * bytes per endpoint (captured from the service once). Both servers share one core and `wrk
 * -t1` has the other (taskset, when there are two); rounds are interleaved A B A B. Prints
 * each figure beside its target, and writes the whole report, with where the time and memory
 * go (a CPU profile per endpoint, the heap at idle), to `dist/bench.md`. Asserts nothing.
 *
 * Env: BENCH_SECONDS (per wrk run, default 3), BENCH_ROUNDS (default 3), BENCH_PATHS (a
 * comma-separated subset of the endpoints), BENCH_QUICK=1 (the table only), BENCH_IDLE_SECONDS
 * (the idle CPU window, default 30), BENCH_MILLION (requests for the RSS-growth figure, default
 * 200000). BENCH_NAMES_ONLY=1 runs only the hostile-names figure, BENCH_BREAKDOWN_ONLY=1 only
 * the profiles and the heap, BENCH_STARTUP_ONLY=1 only the startup figure.
 */
import { dirname, join } from "node:path";
import { DEFAULTS } from "../src/app/config.ts";
import { createSimulator, writeAtomic } from "../tools/simulator.ts";
import {
  connect,
  type CpuBreakdown,
  cpuProfile,
  heapSampling,
  heapSnapshot,
  heapUsage,
  startHeapSampling,
} from "./inspect.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 3);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const IDLE_SECONDS = Number(Deno.env.get("BENCH_IDLE_SECONDS") ?? 30);
const MILLION = Number(Deno.env.get("BENCH_MILLION") ?? 200_000);
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const BASELINE = new URL("./baseline.ts", import.meta.url).pathname;
const READER_FLOOR = new URL("./reader_floor.ts", import.meta.url).pathname;
const REPORT = new URL("../dist/bench.md", import.meta.url).pathname;
const DENO = Deno.execPath();
const dec = new TextDecoder();
/** The V8 flags production runs with, as `deno task start` adds them. */
const V8_FLAGS = Deno.readTextFileSync(new URL("../deploy/v8-flags", import.meta.url)).trim()
  .split("\n");

/** Endpoint and the least ratio of the floor's CPU per request to ours. */
const ALL_ENDPOINTS: [string, number][] = [
  ["/api/healthz", 0.85],
  ["/api/perf/write-sources", 0.85],
  ["/api/mqtt/status", 0.85],
  ["/api/perf/sqlite", 0.85],
  ["/api/perf/io", 0.85],
  ["/metrics", 0.7],
];
const PATHS = Deno.env.get("BENCH_PATHS")?.split(",");
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const ENDPOINTS = ALL_ENDPOINTS.filter(([p]) => !PATHS || PATHS.includes(p));

/** The report: printed as it grows, and written whole at the end. */
const report: string[] = [];
function say(line = ""): void {
  console.log(line);
  report.push(line);
}

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
  } catch (err) {
    return { ok: false, out: String(err) };
  }
}

async function ensureWrk(): Promise<void> {
  if ((await sh("wrk", ["--version"])).out.includes("wrk")) return;
  console.log("installing wrk (Debian package)…");
  await sh("apt-get", ["update", "-qq"]);
  const r = await sh("apt-get", ["install", "-y", "-qq", "wrk"]);
  if (!r.ok) throw new Error(`cannot install wrk: ${r.out}`);
}

/** Two cores and taskset: servers on the second, the load on the first. */
const PIN = navigator.hardwareConcurrency >= 2 && (await sh("taskset", ["-c", "0", "true"])).ok;
const onServerCore = (argv: string[]) => (PIN ? ["taskset", "-c", "1", ...argv] : argv);
const onLoadCore = (argv: string[]) => (PIN ? ["taskset", "-c", "0", ...argv] : argv);

interface Proc {
  proc: Deno.ChildProcess;
  base: string;
  pid: number;
}

async function spawnListening(argv: string[], env?: Record<string, string>): Promise<Proc> {
  const [cmd, ...args] = onServerCore(argv);
  const proc = new Deno.Command(cmd!, { args, stdout: "piped", stderr: "null", env }).spawn();
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before listening: ${argv.join(" ")}`);
    out += dec.decode(value);
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  return { proc, base, pid: proc.pid };
}

async function stop(p: Proc): Promise<void> {
  p.proc.kill("SIGTERM");
  await p.proc.status;
}

/** utime + stime of a process, dead threads included, in microseconds. */
async function cpuMicros(pid: number): Promise<number> {
  const r = await sh("sh", ["-c", 'cat "/proc/$0/stat"; getconf CLK_TCK', String(pid)]);
  const [stat, tck] = r.out.trim().split("\n") as [string, string];
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / Number(tck)) * 1e6;
}

/**
 * CPU time of each live thread of a process in microseconds, by thread id, from the
 * scheduler's own count (`schedstat` of each thread in /proc/PID/task, nanoseconds): the
 * tick-based utime+stime moves in 10 ms steps, a third of an idle process's whole figure over
 * 30 s.
 */
async function schedMicros(pid: number): Promise<Map<string, number>> {
  const r = await sh("sh", [
    "-c",
    'cd "/proc/$0/task" && for t in *; do echo "$t $(cat "$t/schedstat")"; done',
    String(pid),
  ]);
  return new Map(
    r.out.trim().split("\n").map((l) => l.split(" ")).map(([t, ns]) => [t!, Number(ns) / 1000]),
  );
}

/** CPU used between two {@linkcode schedMicros} readings: threads that left take theirs along. */
function schedDelta(before: Map<string, number>, after: Map<string, number>): number {
  let us = 0;
  for (const [t, v] of after) us += v - (before.get(t) ?? 0);
  return us;
}

async function rssMiB(pid: number): Promise<number> {
  const r = await sh("sh", ["-c", 'grep VmRSS "/proc/$0/status"', String(pid)]);
  return Number(/(\d+) kB/.exec(r.out)?.[1]) / 1024;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : n * 1000;
}

interface Run {
  rps: number;
  p99: number;
  cpuUs: number;
  requests: number;
  non2xx: number;
}

async function wrk(p: Proc, path: string, conns: number, seconds: number): Promise<Run> {
  const before = await cpuMicros(p.pid);
  const [cmd, ...args] = onLoadCore(["wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--latency"]);
  const r = await sh(cmd!, [...args, `${p.base}${path}`]);
  const after = await cpuMicros(p.pid);
  const requests = Number(/(\d+) requests in/.exec(r.out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(r.out)?.[1] ?? 0),
    p99: toMs(/^\s+99%\s+(\S+)\s*$/m.exec(r.out)?.[1] ?? ""),
    cpuUs: requests ? (after - before) / requests : NaN,
    requests,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(r.out)?.[1] ?? 0),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const med = (runs: Run[], k: keyof Run) => median(runs.map((r) => r[k]));
const f = (n: number, d = 0) => Number.isFinite(n) ? n.toFixed(d) : "–";
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

async function permissionFlags(args: string[]): Promise<string[]> {
  const r = await sh(DENO, ["run", "--allow-read", "--allow-env", MAIN, "permissions", ...args]);
  if (!r.ok) throw new Error(r.out);
  return r.out.trim().split("\n");
}

/** A running bench: the simulated ingestor, the service's arguments and flags. */
interface Setup {
  dir: string;
  args: string[];
  flags: string[];
  stopSimulator: () => void;
}

async function setup(): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "corescope-perf-bench-" });
  const statsPath = join(dir, "ingestor-stats.json"), dbPath = join(dir, "meshcore.db");
  const sim = createSimulator({ statsPath, dbPath });
  sim.start(1000);
  const args = ["--stats", statsPath, "--db", dbPath, "--port", "0"];
  return { dir, args, flags: await permissionFlags(args), stopSimulator: () => sim.stop() };
}

async function main(): Promise<void> {
  if (Deno.env.get("BENCH_NAMES_ONLY") === "1") {
    const dir = await Deno.makeTempDir({ prefix: "corescope-perf-bench-" });
    await namesFigure(dir);
    return await Deno.remove(dir, { recursive: true });
  }
  await ensureWrk();
  const s = await setup();
  if (Deno.env.get("BENCH_BREAKDOWN_ONLY") === "1" || Deno.env.get("BENCH_STARTUP_ONLY") === "1") {
    await (Deno.env.get("BENCH_STARTUP_ONLY") === "1" ? startupFigure(s.args) : breakdown(s));
    s.stopSimulator();
    return await Deno.remove(s.dir, { recursive: true });
  }
  say(`# corescope-perf bench, ${new Date().toISOString()}`);
  say();
  say(
    `machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cores; deno ${Deno.version.deno}; ${
      PIN ? "servers on core 1, wrk on core 0" : "not pinned"
    }`,
  );
  say(`service flags: ${[...V8_FLAGS, ...s.flags].join(" ")}`);
  const svc = await spawnListening([DENO, "run", ...V8_FLAGS, ...s.flags, MAIN, ...s.args]);
  await new Promise((r) => setTimeout(r, 1500)); // a few stats versions and I/O samples
  const base = await spawnFloor(svc, s.dir);
  try {
    if (!QUICK) await idleFigures(svc, base, s.dir);
    await ratioTable(svc, base);
    if (!QUICK) {
      say(await parsesPerVersion(svc));
      await growthFigure(svc, base);
    }
  } finally {
    await stop(svc);
    await stop(base);
  }
  if (!QUICK) {
    await breakdown(s);
    await startupFigure(s.args);
    await namesFigure(s.dir);
  }
  s.stopSimulator();
  await Deno.remove(s.dir, { recursive: true });
  await Deno.mkdir(dirname(REPORT), { recursive: true });
  await Deno.writeTextFile(REPORT, report.join("\n") + "\n");
  console.log(`\nwritten to ${REPORT}`);
}

/** The floor: a bare Deno.serve sending what the service sent, captured once per endpoint. */
async function spawnFloor(svc: Proc, dir: string): Promise<Proc> {
  const captured: Record<string, unknown> = {};
  for (const [path] of ALL_ENDPOINTS) {
    const res = await fetch(`${svc.base}${path}`);
    const headers = [...res.headers].filter(([k]) => k !== "content-length" && k !== "date");
    captured[path] = { status: res.status, headers, body: await res.text() };
  }
  const capturedPath = join(dir, "captured.json");
  Deno.writeTextFileSync(capturedPath, JSON.stringify(captured));
  return await spawnListening([
    DENO,
    "run",
    ...V8_FLAGS,
    "--allow-net=127.0.0.1",
    `--allow-read=${capturedPath}`,
    BASELINE,
    capturedPath,
    "0",
  ]);
}

/**
 * Idle RSS, and idle CPU while the stats file and database change once a second: the service,
 * the bare floor, and the reader floor (`bench/reader_floor.ts`: the bare floor plus the reads
 * a 1 Hz watch cannot skip, through node:fs), side by side in the same window.
 */
async function idleFigures(svc: Proc, base: Proc, dir: string): Promise<void> {
  const stats = join(dir, "ingestor-stats.json"), db = join(dir, "meshcore.db");
  const reader = await spawnListening([
    DENO,
    "run",
    ...V8_FLAGS,
    "--allow-net=127.0.0.1",
    `--allow-read=${stats},${db},${db}-wal`,
    "--allow-sys=statfs",
    READER_FLOOR,
    stats,
    db,
  ]);
  try {
    await new Promise((r) => setTimeout(r, 3000)); // its first reads, as the service has had
    say();
    say("## Idle");
    const procs = [svc, base, reader];
    const rss = await Promise.all(procs.map((p) => rssMiB(p.pid)));
    const [ours, bare, read] = rss as [number, number, number];
    say(
      `RSS idle: ${f(ours, 1)} MiB, floor ${f(bare, 1)} MiB: +${f(ours - bare, 1)} ` +
        `(target ≤ +15) ${verdict(ours - bare <= 15)}; the reader floor (node:fs loaded) ` +
        `${f(read, 1)} MiB: node:fs +${f(read - bare, 1)}, the rest +${f(ours - read, 1)}`,
    );
    const c0 = await Promise.all(procs.map((p) => schedMicros(p.pid))), t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const c1 = await Promise.all(procs.map((p) => schedMicros(p.pid)));
    const secs = (performance.now() - t0) / 1000;
    const [cOurs, cBare, cRead] = c1.map((c, i) => schedDelta(c0[i]!, c) / 1000 / secs) as [
      number,
      number,
      number,
    ];
    say(
      `CPU idle, stats file and database rewritten at 1 Hz, over ${f(secs)} s (schedstat): ` +
        `${f(cOurs, 2)} ms a second, floor ${f(cBare, 2)}, reader floor ${f(cRead, 2)} ` +
        `(target ≤ 1) ${verdict(cOurs <= 1)}`,
    );
  } finally {
    await stop(reader);
  }
}

/** The service against the floor, A B A B, per endpoint at 32 connections. */
async function ratioTable(svc: Proc, base: Proc): Promise<void> {
  say();
  say(
    `## CPU per request against the same-bytes floor (wrk -t1 -c32 -d${SECONDS}s, ${ROUNDS} rounds, medians)`,
  );
  say();
  say(
    "| endpoint | CPU µs/req | floor CPU µs/req | ratio floor/ours (target) | worst round / median (≥ 0.8) | req/s | floor req/s | p99 ms | floor p99 ms | p99 ratio (≤ 1.5) |",
  );
  say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const [path, target] of ENDPOINTS) {
    const a: Run[] = [], b: Run[] = [], ratios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      a.push(await wrk(svc, path, 32, SECONDS));
      b.push(await wrk(base, path, 32, SECONDS));
      ratios.push(b.at(-1)!.cpuUs / a.at(-1)!.cpuUs);
    }
    say(tableRow(path, target, a, b, ratios));
  }
}

function tableRow(path: string, target: number, a: Run[], b: Run[], ratios: number[]): string {
  const ratio = median(ratios);
  const worst = Math.min(...ratios) / ratio;
  const p99r = med(a, "p99") / med(b, "p99");
  const non2xx = a.reduce((n, r) => n + r.non2xx, 0);
  return `| ${path} | ${f(med(a, "cpuUs"), 1)} | ${f(med(b, "cpuUs"), 1)} | ` +
    `${f(ratio, 2)} (${target}) ${verdict(ratio >= target)} | ${f(worst, 2)} ${
      verdict(worst >= 0.8)
    } | ` +
    `${f(med(a, "rps"))} | ${f(med(b, "rps"))} | ${f(med(a, "p99"), 3)} | ${
      f(med(b, "p99"), 3)
    } | ${f(p99r, 2)} ${verdict(p99r <= 1.5)}` +
    (non2xx ? ` (${non2xx} non-2xx!)` : "") + " |";
}

/** One open and parse per stats file version, whatever the request rate. */
async function parsesPerVersion(svc: Proc): Promise<string> {
  const metrics = await (await fetch(`${svc.base}/metrics`)).text();
  const val = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1]);
  const opens = val("corescope_perf_stats_file_opens_total");
  const parses = val("corescope_perf_stats_file_parses_total");
  const versions = val("corescope_perf_stats_file_versions_total");
  return `\nstats file: ${opens} opens, ${parses} parses for ${versions} versions under load ` +
    `(${f(opens / versions, 2)} opens and ${f(parses / versions, 2)} parses per version; target 1)`;
}

/** RSS after MILLION requests of /api/healthz and a second's rest, against the floor's. */
async function growthFigure(svc: Proc, base: Proc): Promise<void> {
  const grow = async (p: Proc) => {
    const before = await rssMiB(p.pid);
    let served = 0;
    while (served < MILLION) {
      const r = await wrk(p, "/api/healthz", 64, 5);
      if (r.requests === 0) break;
      served += r.requests;
    }
    await new Promise((r) => setTimeout(r, 1000));
    return { served, grew: (await rssMiB(p.pid)) - before };
  };
  const ours = await grow(svc), floor = await grow(base);
  say(
    `RSS growth after ${ours.served} requests: +${f(ours.grew, 1)} MiB, floor +${
      f(floor.grew, 1)
    } ` +
      `MiB (target ≤ floor + 10) ${verdict(ours.grew <= floor.grew + 10)}`,
  );
}

/** The top rows of a breakdown, in µs per request (or per second at idle) and as shares. */
function topRows(rows: [string, number][], per: number, unit: string, n: number): string[] {
  return rows.slice(0, n).map(([name, us]) => `  ${f(us / per, 2).padStart(8)} ${unit}  ${name}`);
}

/**
 * Where the time and the memory go: the service again, watched by the inspector from its
 * first allocation (`--inspect-wait`): the heap at idle (after a full collection: what is
 * alive, by the site that allocated it and by kind), then a CPU profile per endpoint under
 * wrk, summed by file and by function.
 */
async function breakdown(s: Setup): Promise<void> {
  const port = 19000 + Math.floor(Math.random() * 1000);
  const argv = [
    DENO,
    "run",
    `--inspect-wait=127.0.0.1:${port}`,
    ...V8_FLAGS,
    ...s.flags,
    MAIN,
    ...s.args,
  ];
  const [cmd, ...args] = onServerCore(argv);
  const proc = new Deno.Command(cmd!, { args, stdout: "piped", stderr: "null" }).spawn();
  const ins = await connect(`127.0.0.1:${port}`);
  await startHeapSampling(ins);
  await ins.call("Runtime.runIfWaitingForDebugger");
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(out)) {
    out += dec.decode((await reader.read()).value);
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  const svc = {
    proc,
    pid: proc.pid,
    base: /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!,
  };
  try {
    await new Promise((r) => setTimeout(r, 5000)); // idle: a few samples of everything
    await heapFigures(ins);
    await idleCpuFigures(ins);
    for (const [path] of ENDPOINTS) await cpuFigures(ins, svc, path);
  } finally {
    ins.close();
    await stop(svc);
  }
}

async function heapFigures(ins: Awaited<ReturnType<typeof connect>>): Promise<void> {
  const usage = await heapUsage(ins);
  const live = await heapSampling(ins);
  const snap = await heapSnapshot(ins);
  say();
  say(`## Heap at idle (after a full collection)`);
  say();
  say(
    `V8 heap: ${f(usage.used / 1048576, 1)} MiB used of ${
      f(usage.total / 1048576, 1)
    } MiB; snapshot ${f(snap.totalBytes / 1048576, 1)} MiB`,
  );
  say("By kind (snapshot, self bytes):");
  say("```");
  for (const [kind, bytes] of snap.byKind.slice(0, 8)) {
    say(`  ${f(bytes / 1024).padStart(8)} KiB  ${kind}`);
  }
  say("```");
  say("Largest strings (module sources are kept for lazy compilation):");
  say("```");
  for (const [text, bytes] of snap.largestStrings) {
    say(`  ${f(bytes / 1024).padStart(8)} KiB  ${JSON.stringify(text)}`);
  }
  say("```");
  say(
    `Live bytes by the file that allocated them (sampled, ${
      f(live.totalBytes / 1024)
    } KiB in all):`,
  );
  say("```");
  for (const [file, bytes] of live.byFile.slice(0, 12)) {
    say(`  ${f(bytes / 1024).padStart(8)} KiB  ${file}`);
  }
  say("```");
  say("Live bytes by site, ours (src/):");
  say("```");
  for (const [site, bytes] of live.bySite.filter(([s]) => s.includes(" src/")).slice(0, 12)) {
    say(`  ${f(bytes / 1024).padStart(8)} KiB  ${site}`);
  }
  say("```");
}

/** What runs while nobody asks: 10 s of the stats file rewritten once a second, per second. */
async function idleCpuFigures(ins: Awaited<ReturnType<typeof connect>>): Promise<void> {
  const secs = 10;
  const cpu = await cpuProfile(ins, () => new Promise((r) => setTimeout(r, secs * 1000)));
  say();
  say(
    `## CPU profile at idle (${secs} s, the stats file rewritten at 1 Hz; main thread, under ` +
      `the profiler's own cost: ${f(cpu.busyUs / secs / 1000, 2)} ms a second busy)`,
  );
  say("```");
  say("by file:");
  for (const line of topRows(cpu.byFile, secs * 1000, "ms/s", 10)) say(line);
  say("ours, by function:");
  const ours = cpu.byFunction.filter(([fn]) => fn.includes(" src/"));
  for (const line of topRows(ours, secs * 1000, "ms/s", 8)) say(line);
  say("```");
}

async function cpuFigures(
  ins: Awaited<ReturnType<typeof connect>>,
  svc: Proc,
  path: string,
): Promise<void> {
  let requests = 0;
  const cpu: CpuBreakdown = await cpuProfile(ins, async () => {
    requests = (await wrk(svc, path, 32, 2)).requests;
  });
  const ours = cpu.byFile.filter(([file]) => file.startsWith("src/"));
  const oursUs = ours.reduce((n, [, us]) => n + us, 0);
  say();
  say(
    `## CPU profile: ${path} (main thread, 50 µs samples, under the profiler's own cost: ` +
      `${f(cpu.busyUs / requests, 2)} µs a request busy, ${
        f(oursUs / requests, 2)
      } µs of it in src/)`,
  );
  say("```");
  say("by file:");
  for (const line of topRows(cpu.byFile, requests, "µs/req", 10)) say(line);
  say("ours, by function:");
  for (
    const line of topRows(
      cpu.byFunction.filter(([fn]) => fn.includes(" src/")),
      requests,
      "µs/req",
      8,
    )
  ) say(line);
  say("```");
}

/**
 * Startup to first 200, median of 10, warm module cache: the README's start command (`deno task
 * start`: Deno's task runner, which runs deploy/start.sh, which execs main.ts), start.sh alone and
 * main.ts alone, against a bare Deno.serve.
 */
async function startupFigure(args: string[]): Promise<void> {
  const task = await startup(DENO, ["task", "start", ...args]);
  const ours = await startup("bash", ["deploy/start.sh", ...args]);
  const direct = await startup(DENO, [
    "run",
    ...V8_FLAGS,
    ...await permissionFlags(args),
    MAIN,
    ...args,
  ]);
  const bare = await startup(DENO, ["run", "--allow-net=127.0.0.1", BASELINE]);
  say();
  say("## Startup");
  say(
    `startup to first 200 (median of 10): deno task start ${f(task, 1)} ms (Deno's task runner, ` +
      `then start.sh: ${f(ours, 1)} ms, its grants from its cache, then main.ts: ${
        f(direct, 1)
      } ms alone, as the systemd unit and the compiled binary start it), bare Deno ${
        f(bare, 1)
      } ms: ${f(task / bare, 2)}x (target ≤ 2x) ${verdict(task <= 2 * bare)}; start.sh ${
        f(ours / bare, 2)
      }x, main.ts ${f(direct / bare, 2)}x`,
  );
}

async function startup(cmd: string, cmdArgs: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const proc = new Deno.Command(cmd, {
      args: cmdArgs,
      stdout: "piped",
      stderr: "null",
      env: { PATH: `${dirname(DENO)}:${Deno.env.get("PATH")}` },
      cwd: ROOT,
    }).spawn();
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) out += dec.decode((await reader.read()).value);
    reader.releaseLock();
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1];
    for (;;) {
      const res = await fetch(`${url}/api/healthz`).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status === 200) break;
    }
    times.push(performance.now() - t0);
    proc.kill("SIGTERM");
    await proc.status;
    await proc.stdout.cancel().catch(() => {});
  }
  return median(times);
}

/**
 * A hostile stats file as large as the default `maxStatsBytes` allows, of the costliest shape
 * to parse (a map of short names), rewritten twice a second: healthz probed one request at a
 * time (as a monitor does) for 5 s; p99 and RSS against their targets.
 */
async function namesFigure(dir: string): Promise<void> {
  const statsPath = join(dir, "names.json");
  const doc = (n: number) => {
    const names: Record<string, number> = {};
    for (let i = 0; i < n; i++) names[i.toString(36)] = 0;
    return JSON.stringify({ sampledAt: new Date().toISOString(), backfillUpdates: names });
  };
  let n = 1000;
  while (doc(n + 1000).length < DEFAULTS.maxStatsBytes) n += 1000;
  const swap = () => writeAtomic(statsPath, doc(n));
  swap();
  const timer = setInterval(swap, 500);
  const args = ["--stats", statsPath, "--db", join(dir, "none.db"), "--port", "0"];
  const svc = await spawnListening([
    DENO,
    "run",
    ...V8_FLAGS,
    ...await permissionFlags(args),
    MAIN,
    ...args,
  ]);
  try {
    const times: number[] = [];
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const t0 = performance.now();
      await (await fetch(`${svc.base}/api/healthz`)).body?.cancel();
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
    times.sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)]!;
    const rss = await rssMiB(svc.pid);
    say();
    say(
      `stats file of ${n} names (${f(doc(n).length / 1024)} KiB, default maxStatsBytes) at 2 Hz: ` +
        `healthz p99 ${f(p99, 1)} ms over ${times.length} probes (target < 50) ${
          verdict(p99 < 50)
        }, ` +
        `RSS ${f(rss, 1)} MiB (target < 150) ${verdict(rss < 150)}`,
    );
  } finally {
    clearInterval(timer);
    await stop(svc);
  }
}

await main();
