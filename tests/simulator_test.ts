import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSimulator } from "../src/simulator.ts";
import { parseStatsSnapshot } from "../src/stats_snapshot.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("the simulated ingestor writes a valid 0600 stats file by rename and grows the WAL", () => {
  using t = tempDir();
  let now = Date.parse("2026-11-23T12:00:00Z");
  const sim = createSimulator({
    statsPath: t.path("s.json"),
    dbPath: t.path("m.db"),
    now: () => now,
  });
  try {
    const inodes = new Set<number | null>();
    for (let i = 0; i < 3; i++) {
      sim.tick();
      inodes.add(Deno.lstatSync(t.path("s.json")).ino);
      now += 1000;
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
  } finally {
    sim.stop();
  }
});

Deno.test("'regional' goes write-stalled for the last 15 s of every minute", () => {
  using t = tempDir();
  let now = Date.parse("2026-11-23T12:00:00Z");
  const sim = createSimulator({
    statsPath: t.path("s.json"),
    dbPath: t.path("m.db"),
    now: () => now,
    txPerTick: 1,
  });
  try {
    type Live = Record<string, { lastReceiptUnix: number; lastMessageUnix: number }>;
    let live: Live = {};
    for (let s = 0; s < 60; s++) {
      live = sim.tick().source_liveness as Live;
      now += 1000;
    }
    const r = live.regional!;
    assert.equal(r.lastReceiptUnix - r.lastMessageUnix, 15, "receipt fresh, write stale");
    assert.equal(live.local!.lastReceiptUnix, live.local!.lastMessageUnix);
  } finally {
    sim.stop();
  }
});
