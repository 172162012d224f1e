import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSimulator } from "../tools/simulator.ts";
import { DEMO_THRESHOLDS } from "../tools/demo.ts";
import { sourceVerdict } from "../src/verdicts.ts";
import { parseStatsSnapshot } from "../src/stats_snapshot.ts";
import { tempDir } from "./_helpers.ts";

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
  assert.equal(parsed.snapshot.counters.tx_inserted, 60);
  assert.equal(parsed.snapshot.sampledAt, "2026-11-23T12:00:02Z");
  assert.ok(Deno.statSync(t.path("m.db-wal")).size > 0);
  const db = new DatabaseSync(t.path("m.db"), { readOnly: true });
  const row = db.prepare("SELECT count(*) AS n FROM observations").get() as { n: number };
  db.close();
  assert.equal(row.n, 180);
});

Deno.test("'regional' goes write-stalled for the last 15 s of every minute", () => {
  using env = simulated(1);
  const { clock, sim } = env;
  type Live = Record<string, { lastReceiptUnix: number; lastMessageUnix: number }>;
  let live: Live = {};
  for (let s = 0; s < 60; s++) {
    live = sim.tick().source_liveness as Live;
    clock.now += 1000;
  }
  const r = live.regional!;
  assert.equal(r.lastReceiptUnix - r.lastMessageUnix, 15, "receipt fresh, write stale");
  assert.equal(live.local!.lastReceiptUnix, live.local!.lastMessageUnix);
});

Deno.test("the demo, failing to bind, exits 2 naming the address and leaves no files behind", async () => {
  using dir = tempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read=.",
        "--allow-write=.demo",
        "--allow-net=127.0.0.1",
        "--allow-env=CORESCOPE_INGESTOR_STATS",
        new URL("../tools/demo.ts", import.meta.url).pathname,
        `--port=${port}`,
      ],
      cwd: dir.dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, err);
    assert.match(err, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    assert.deepEqual([...Deno.readDirSync(`${dir.dir}/.demo`)], [], "its run directory is gone");
  } finally {
    taken.close();
  }
});

Deno.test("the demo's thresholds show the advertised stall: regional turns write_stalled, then ok", () => {
  using env = simulated(2);
  const { t, clock, sim } = env;
  const seen = new Set<string>();
  for (let s = 0; s < 70; s++) {
    sim.tick();
    const p = parseStatsSnapshot(Deno.readTextFileSync(t.path("s.json")));
    assert.ok(p.ok);
    const regional = p.snapshot.sourceLiveness!.regional!;
    seen.add(sourceVerdict(regional, Math.floor(clock.now / 1000), DEMO_THRESHOLDS));
    clock.now += 1000;
  }
  assert.deepEqual([...seen].sort(), ["ok", "write_stalled"]);
});
