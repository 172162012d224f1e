/**
 * `deno task bench`: the service (under its production permission flags and V8 flags, against
 * a live simulated ingestor's stats file and database) side by side with a bare `Deno.serve`
 * that sends exactly the same status, headers and body bytes per endpoint (captured from the
 * service once), interleaved A B A B in one run, driven by `wrk -t1` on 127.0.0.1 (on two
 * cores, -t2 starves both servers). Prints figures; asserts nothing (targets are printed
 * next to the figures).
 *
 * Env: BENCH_SECONDS (per wrk run, default 3), BENCH_ROUNDS (default 3),
 * BENCH_MILLION (requests for the RSS-growth figure, default 1000000), BENCH_PATHS (a
 * comma-separated subset of the endpoints), BENCH_QUICK=1 (the table only). Last, healthz's p99
 * under a stats file of names filling the default maxStatsBytes, rewritten at 2 Hz
 * (BENCH_NAMES_ONLY=1 runs only that).
 */
import { dirname, join } from "node:path";
import { DEFAULTS } from "../src/app/config.ts";
import { createSimulator, writeAtomic } from "../tools/simulator.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 3);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const MILLION = Number(Deno.env.get("BENCH_MILLION") ?? 1_000_000);
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const BASELINE = new URL("./baseline.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
const dec = new TextDecoder();
/** The V8 flags production runs with, as `deno task start` adds them. */
const V8_FLAGS = Deno.readTextFileSync(new URL("../deploy/v8-flags", import.meta.url)).trim().split(
  "\n",
);

/** Endpoint, target ratio to the same-bytes floor, and whether no round may fall below 0.8 of the median. */
const ALL_ENDPOINTS: [string, number, boolean][] = [
  ["/api/healthz", 0.85, false],
  ["/api/perf/write-sources", 0.85, false],
  ["/api/mqtt/status", 0.85, false],
  ["/api/perf/sqlite", 0.85, false],
  ["/api/perf/io", 0.6, true],
  ["/metrics", 0.6, true],
];
/** BENCH_PATHS=/metrics,/api/healthz runs only those rows; BENCH_QUICK=1 skips RSS and startup. */
const PATHS = Deno.env.get("BENCH_PATHS")?.split(",");
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const ENDPOINTS = ALL_ENDPOINTS.filter(([p]) => !PATHS || PATHS.includes(p));

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

interface Proc {
  proc: Deno.ChildProcess;
  base: string;
  pid: number;
}

async function spawnListening(args: string[]): Promise<Proc> {
  const proc = new Deno.Command(DENO, { args, stdout: "piped", stderr: "null" }).spawn();
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before listening: ${args.join(" ")}`);
    out += dec.decode(value);
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
  if (!m) throw new Error(`no listening line: ${out}`);
  return { proc, base: m[1]!, pid: proc.pid };
}

async function stop(p: Proc): Promise<void> {
  p.proc.kill("SIGTERM");
  await p.proc.status;
}

/** utime + stime of a process, in microseconds. */
async function cpuMicros(pid: number): Promise<number> {
  const r = await sh("sh", ["-c", 'cat "/proc/$0/stat"; getconf CLK_TCK', String(pid)]);
  const [stat, tck] = r.out.trim().split("\n") as [string, string];
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / Number(tck)) * 1e6;
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
  p50: number;
  p99: number;
  cpuUs: number;
  requests: number;
  non2xx: number;
}

async function wrk(p: Proc, path: string, conns: number, seconds: number): Promise<Run> {
  const before = await cpuMicros(p.pid);
  const r = await sh("wrk", [
    "-t1",
    `-c${conns}`,
    `-d${seconds}s`,
    "--latency",
    `${p.base}${path}`,
  ]);
  const after = await cpuMicros(p.pid);
  const requests = Number(/(\d+) requests in/.exec(r.out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(r.out)?.[1] ?? 0),
    p50: toMs(/^\s+50%\s+(\S+)\s*$/m.exec(r.out)?.[1] ?? ""),
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

async function permissionFlags(args: string[]): Promise<string[]> {
  const r = await sh(DENO, ["run", "--allow-read", "--allow-env", MAIN, "permissions", ...args]);
  if (!r.ok) throw new Error(r.out);
  return r.out.trim().split("\n");
}

async function main(): Promise<void> {
  if (Deno.env.get("BENCH_NAMES_ONLY") === "1") {
    const dir = await Deno.makeTempDir({ prefix: "corescope-perf-bench-" });
    await namesFigure(dir);
    return await Deno.remove(dir, { recursive: true });
  }
  await ensureWrk();
  const dir = await Deno.makeTempDir({ prefix: "corescope-perf-bench-" });
  const statsPath = join(dir, "ingestor-stats.json");
  const dbPath = join(dir, "meshcore.db");
  const sim = createSimulator({ statsPath, dbPath });
  sim.start(1000);
  const args = ["--stats", statsPath, "--db", dbPath, "--port", "0"];
  const flags = await permissionFlags(args);
  console.log(
    `machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cores; deno ${Deno.version.deno}`,
  );
  console.log(`service flags: ${[...V8_FLAGS, ...flags].join(" ")}`);
  console.log(`wrk -t1 -d${SECONDS}s, ${ROUNDS} interleaved rounds, medians\n`);

  const svc = await spawnListening(["run", ...V8_FLAGS, ...flags, MAIN, ...args]);
  await new Promise((r) => setTimeout(r, 1500)); // a few stats versions and I/O samples
  const base = await spawnFloor(svc, dir);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = { svc: await rssMiB(svc.pid), base: await rssMiB(base.pid) };
    const rows = await ratioTable(svc, base);
    if (QUICK) {
      console.log("\n" + rows.join("\n"));
      sim.stop();
      return;
    }
    const perVersion = await parsesPerVersion(svc);
    const growth = { svc: await grow(svc), base: await grow(base) };
    console.log("\n" + rows.join("\n"));
    console.log(perVersion);
    printRss(idle, growth);
  } finally {
    await stop(svc);
    await stop(base);
  }
  await startupFigure(args);
  await namesFigure(dir);
  sim.stop();
  await Deno.remove(dir, { recursive: true });
}

/** The floor: a bare Deno.serve sending what the service sent, captured once per endpoint. */
async function spawnFloor(svc: Proc, dir: string): Promise<Proc> {
  const captured: Record<string, unknown> = {};
  for (const [path] of ENDPOINTS) {
    const res = await fetch(`${svc.base}${path}`);
    const headers = [...res.headers].filter(([k]) => k !== "content-length" && k !== "date");
    captured[path] = { status: res.status, headers, body: await res.text() };
  }
  const capturedPath = join(dir, "captured.json");
  Deno.writeTextFileSync(capturedPath, JSON.stringify(captured));
  return await spawnListening([
    "run",
    "--allow-net=127.0.0.1",
    `--allow-read=${capturedPath}`,
    BASELINE,
    capturedPath,
    "0",
  ]);
}

/** The service against the floor, A B A B, per endpoint and connection count. */
async function ratioTable(svc: Proc, base: Proc): Promise<string[]> {
  const rows = [
    "| endpoint | conns | req/s | p99 ms | CPU µs/req | floor req/s | floor p99 ms | floor CPU µs/req | ratio (target) | worst round / median | p99 ratio (≤1.5) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const conns of [32, 256]) {
    for (const [path, target, stable] of ENDPOINTS) {
      const a: Run[] = [], b: Run[] = [], ratios: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        a.push(await wrk(svc, path, conns, SECONDS));
        b.push(await wrk(base, path, conns, SECONDS));
        ratios.push(a.at(-1)!.rps / b.at(-1)!.rps);
      }
      rows.push(tableRow(path, conns, target, stable, a, b, ratios));
      console.log(rows.at(-1));
    }
  }
  return rows;
}

function tableRow(
  path: string,
  conns: number,
  target: number,
  stable: boolean,
  a: Run[],
  b: Run[],
  ratios: number[],
): string {
  const ratio = median(ratios);
  const worst = Math.min(...ratios) / ratio;
  const p99r = med(a, "p99") / med(b, "p99");
  const non2xx = a.reduce((n, r) => n + r.non2xx, 0);
  return `| ${path} | ${conns} | ${f(med(a, "rps"))} | ${f(med(a, "p99"), 3)} | ` +
    `${f(med(a, "cpuUs"), 1)} | ${f(med(b, "rps"))} | ${f(med(b, "p99"), 3)} | ${
      f(med(b, "cpuUs"), 1)
    } | ` +
    `${f(ratio, 2)} (${target}) ${ratio >= target ? "met" : "MISSED"} | ${f(worst, 2)}${
      stable ? (worst >= 0.8 ? " met" : " MISSED") : ""
    } | ${f(p99r, 2)} ${p99r <= 1.5 ? "met" : "MISSED"}` +
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

/** RSS after MILLION requests of /api/healthz and a second's rest. */
async function grow(p: Proc): Promise<{ served: number; rss: number }> {
  let served = 0;
  while (served < MILLION) {
    const r = await wrk(p, "/api/healthz", 64, 10);
    if (r.requests === 0) break;
    served += r.requests;
  }
  await new Promise((r) => setTimeout(r, 1000));
  return { served, rss: await rssMiB(p.pid) };
}

function printRss(
  idle: { svc: number; base: number },
  growth: { svc: { served: number; rss: number }; base: { served: number; rss: number } },
): void {
  const ours = growth.svc.rss - idle.svc, floor = growth.base.rss - idle.base;
  console.log(
    `RSS idle: ${f(idle.svc, 1)} MiB, floor ${f(idle.base, 1)} MiB: +${
      f(idle.svc - idle.base, 1)
    } (target ≤ +15) ${idle.svc - idle.base <= 15 ? "met" : "MISSED"}`,
  );
  console.log(
    `RSS growth after ${growth.svc.served} requests each: +${f(ours, 1)} MiB, floor +${
      f(floor, 1)
    } MiB (target ≤ floor + 10) ${ours <= floor + 10 ? "met" : "MISSED"}`,
  );
}

/**
 * Startup to first 200, median of 10, warm module cache: the README's start command
 * (`deno task start`: deploy/start.sh) against a bare Deno.serve.
 */
async function startupFigure(args: string[]): Promise<void> {
  const ours = await startup("bash", ["deploy/start.sh", ...args]);
  const bare = await startup(DENO, ["run", "--allow-net=127.0.0.1", BASELINE]);
  console.log(
    `startup to first 200 (median of 10): deno task start ${f(ours, 1)} ms, bare Deno ${
      f(bare, 1)
    } ms: ${f(ours / bare, 2)}x (target ≤ 2x) ${ours <= 2 * bare ? "met" : "MISSED"}`,
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
 * #11's target: a hostile stats file as large as the default `maxStatsBytes` allows, of the
 * costliest shape to parse (a map of short names), rewritten twice a second: healthz probed
 * one request at a time (as a monitor does) for 5 s; p99 and RSS against their targets.
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
    console.log(
      `stats file of ${n} names (${
        f(doc(n).length / 1024, 0)
      } KiB, default maxStatsBytes) at 2 Hz: ` +
        `healthz p99 ${f(p99, 1)} ms over ${times.length} probes (target < 50) ${
          p99 < 50 ? "met" : "MISSED"
        }, RSS ${f(rss, 1)} MiB (target < 150) ${rss < 150 ? "met" : "MISSED"}`,
    );
  } finally {
    clearInterval(timer);
    await stop(svc);
  }
}

await main();
