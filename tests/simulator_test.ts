import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSimulator } from "../tools/simulator.ts";
import { DEMO_BROKER_DOWN_SEC } from "../tools/demo.ts";
import { parseStatsSnapshot } from "../src/inputs/stats_snapshot.ts";
import { tempDir, until } from "./_helpers.ts";

/** A simulator in a temp dir on a controllable clock starting at 2026-11-23T12:00:00Z. */
function simulated(txPerTick?: number) {
  const t = tempDir();
  const clock = { now: Date.parse("2026-11-23T12:00:00Z") };
  const sim = createSimulator({
    statsPath: t.path("s.json"),
    dbPath: t.path("m.db"),
    now: () => clock.now,
    txPerTick,
  });
  return {
    t,
    clock,
    sim,
    [Symbol.dispose]() {
      sim.stop();
      t[Symbol.dispose]();
    },
  };
}

Deno.test("the simulated ingestor writes a valid 0600 stats file by rename and grows the WAL", () => {
  using env = simulated();
  const { t, clock, sim } = env;
  const inodes = new Set<number | null>();
  for (let i = 0; i < 3; i++) {
    sim.tick();
    inodes.add(Deno.lstatSync(t.path("s.json")).ino);
    clock.now += 1000;
  }
  assert.ok(inodes.size >= 2, "each version is a new file renamed into place");
  assert.equal(Deno.statSync(t.path("s.json")).mode! & 0o777, 0o600);
  assert.equal(Deno.readDirSync(t.dir).some((e) => e.name.endsWith(".tmp")), false);
  const parsed = parseStatsSnapshot(Deno.readTextFileSync(t.path("s.json")));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.snapshot.problems, []);
  // 20 + 5 packets a tick, every 7th a dupe: 3 per tick.
  assert.equal(parsed.snapshot.counters.obs_inserted, 75);
  assert.equal(parsed.snapshot.counters.tx_inserted, 66);
  assert.equal(parsed.snapshot.sampledAt, "2026-11-23T12:00:02Z");
  assert.ok(Deno.statSync(t.path("m.db-wal")).size > 0);
  const db = new DatabaseSync(t.path("m.db"), { readOnly: true });
  const row = db.prepare("SELECT count(*) AS n FROM observations").get() as { n: number };
  db.close();
  assert.equal(row.n, 75);
});

Deno.test("as the real ingestor: the message clock is stamped when a handler starts, so a locked database leaves it fresh while write_errors grow", () => {
  using env = simulated(4);
  const { t, clock, sim } = env;
  sim.tick();
  clock.now += 1000;
  const locker = new DatabaseSync(t.path("m.db"));
  locker.exec("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE");
  const before = sim.tick()!;
  clock.now += 1000;
  const during = sim.tick()!;
  locker.exec("ROLLBACK");
  locker.close();
  const sec = Math.floor(clock.now / 1000);
  const live = during.source_liveness as Record<string, { lastMessageUnix: number }>;
  assert.equal(live.local!.lastMessageUnix, sec, "stamped though nothing was written");
  assert.equal(during.tx_inserted, before.tx_inserted, "rows flat");
  assert.equal(during.obs_inserted, before.obs_inserted);
  assert.equal(
    (during.write_errors as number) - (before.write_errors as number),
    5,
    "one a message",
  );
});

Deno.test("as the real ingestor: a broker drop is connected:false with lastError EOF at once, and one more connect after", () => {
  using env = simulated(4);
  const { clock, sim } = env;
  type Row = { name: string; connected: boolean; lastError?: string; connectCount: number };
  const row = (stats: Record<string, unknown>) =>
    (stats.source_statuses as Row[]).find((r) => r.name === "regional")!;
  assert.equal(row(sim.tick()!).connectCount, 1);
  sim.brokerDown("regional", true);
  clock.now += 1000;
  const down = row(sim.tick()!);
  assert.deepEqual([down.connected, down.lastError], [false, "EOF"]);
  sim.brokerDown("regional", false);
  clock.now += 1000;
  assert.deepEqual([row(sim.tick()!).connected, row(sim.tick()!).connectCount], [true, 2]);
});

Deno.test("as the real ingestor: no watchdog stamp for the first 60 s, statuses in a new order each tick, no trailing newline", () => {
  using env = simulated(1);
  const { t, clock, sim } = env;
  const orders = new Set<string>();
  for (let s = 0; s < 70; s++) {
    const stats = sim.tick()!;
    assert.equal("watchdogLastTickUnix" in stats, s >= 60, `at ${s} s`);
    orders.add((stats.source_statuses as { name: string }[]).map((r) => r.name).join());
    clock.now += 1000;
  }
  assert.equal(orders.size, 2, "both orders seen");
  assert.ok(!Deno.readTextFileSync(t.path("s.json")).endsWith("\n"));
});

Deno.test("the real ingestor's own file parses with no problem, and the simulator writes every key it has", () => {
  // A copy is kept in the repository; where shared/ sits beside the checkout (CI, a
  // developer's machine), the copy must still be the file the real ingestor wrote.
  const real = Deno.readTextFileSync(
    new URL("./fixtures/real-ingestor-stats.json", import.meta.url),
  );
  const shared = new URL("../../shared/fixtures/real-ingestor-stats.json", import.meta.url);
  try {
    assert.equal(real, Deno.readTextFileSync(shared), "the copy is the real ingestor's file");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const parsed = parseStatsSnapshot(real);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.snapshot.problems, []);
  assert.equal(parsed.snapshot.sourceStatuses![1]!.broker, "tcp://ingest:****@127.0.0.1:18832");
  using env = simulated(2);
  for (let s = 0; s < 61; s++) {
    env.sim.tick();
    env.clock.now += 1000;
  }
  const ours = JSON.parse(Deno.readTextFileSync(env.t.path("s.json")));
  const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
  const theirs = JSON.parse(real);
  assert.deepEqual(keys(ours), keys(theirs));
  assert.deepEqual(keys(ours.procIO), keys(theirs.procIO));
  assert.deepEqual(keys(ours.source_statuses[0]), keys(theirs.source_statuses[0]));
  assert.deepEqual(keys(ours.writer_perf.mqtt_handler), keys(theirs.writer_perf.mqtt_handler));
});

/** `deno task demo --port=PORT` in `cwd`, under the task's own grants. */
function demo(cwd: string, port: number, stderr: "piped" | "null" = "piped"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-write=.demo",
      "--allow-net=127.0.0.1",
      "--allow-env=CORESCOPE_INGESTOR_STATS",
      new URL("../tools/demo.ts", import.meta.url).pathname,
      `--port=${port}`,
    ],
    cwd,
    stdout: "piped",
    stderr,
  });
}

Deno.test("the demo, failing to bind, exits 2 naming the address and leaves no files behind", async () => {
  using dir = tempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const out = await demo(dir.dir, port).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, err);
    assert.match(err, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    assert.deepEqual([...Deno.readDirSync(`${dir.dir}/.demo`)], [], "its run directory is gone");
  } finally {
    taken.close();
  }
});

Deno.test("the demo's rehearsal: regional's broker drops for the last 15 s of every minute", () => {
  const t = tempDir();
  const clock = { now: Date.parse("2026-11-23T12:00:00Z") };
  const sim = createSimulator({
    statsPath: t.path("s.json"),
    dbPath: t.path("m.db"),
    now: () => clock.now,
    txPerTick: 1,
    brokerDownSecondsPerMinute: DEMO_BROKER_DOWN_SEC,
  });
  try {
    const seen: boolean[] = [];
    for (let s = 0; s < 60; s++) {
      const rows = sim.tick()!.source_statuses as { name: string; connected: boolean }[];
      seen.push(rows.find((r) => r.name === "regional")!.connected);
      clock.now += 1000;
    }
    assert.equal(seen.filter((c) => !c).length, 15);
  } finally {
    sim.stop();
    t[Symbol.dispose]();
  }
});

Deno.test("deno task simulate rehearses a failure for a running service: --disk-full makes write_errors grow", async () => {
  using dir = tempDir();
  const stats = dir.path("s.json");
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("../tools/simulate.ts", import.meta.url).pathname,
      "--stats",
      stats,
      "--db",
      dir.path("m.db"),
      "--disk-full",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    await until(() => {
      try {
        return JSON.parse(Deno.readTextFileSync(stats)).write_errors > 0;
      } catch {
        return false;
      }
    }, "write errors in the simulated stats file");
    assert.equal(Deno.statSync(stats).mode! & 0o777, 0o600);
  } finally {
    proc.kill("SIGTERM");
    await proc.status;
    await proc.stdout.cancel();
    await proc.stderr.cancel();
  }
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", new URL("../tools/simulate.ts", import.meta.url).pathname, "--stats", stats],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /--db PATH is required/);
});

Deno.test("the demo reports the service's own version", async () => {
  using dir = tempDir();
  const proc = demo(dir.dir, 0, "null").spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!/listening on (http:\/\/\S+\/)/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const base = /listening on (http:\/\/\S+)\//.exec(out)![1];
    const health = await (await fetch(`${base}/api/health`)).json();
    const { version } = JSON.parse(
      Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
    );
    assert.equal(health.version, version);
  } finally {
    proc.kill("SIGTERM");
    await reader.cancel();
    await proc.status;
  }
});
