/**
 * The ingest watch as a spec: observations in (a stats file's counters, the WAL's header, the
 * disk), facts out, on a clock the test sets. No service, no sleeping.
 */
import assert from "node:assert/strict";
import {
  type CounterPoint,
  createIngestWatch,
  type IngestFacts,
  type WalReading,
} from "../src/judge/ingest_watch.ts";
import {
  COUNTER_NAMES,
  parseStatsSnapshot,
  type StatsSnapshot,
} from "../src/inputs/stats_snapshot.ts";
import { writesVerdict } from "../src/judge/verdicts.ts";

/** A snapshot with these counters (rows as tx_inserted), packets per source, writer_perf. */
function snap(c: {
  rows?: number;
  dupes?: number;
  obs?: number;
  errors?: number;
  packets?: Record<string, number>;
  writers?: Record<string, Record<string, number>>;
  omit?: string;
}): StatsSnapshot {
  const doc: Record<string, unknown> = {
    tx_inserted: c.rows ?? 0,
    tx_dupes: c.dupes ?? 0,
    obs_inserted: c.obs ?? 0,
    write_errors: c.errors ?? 0,
    source_statuses: Object.entries(c.packets ?? {}).map(([name, n]) => ({
      name,
      connected: true,
      packetsTotal: n,
    })),
  };
  if (c.writers) doc.writer_perf = c.writers;
  if (c.omit) delete doc[c.omit];
  const r = parseStatsSnapshot(JSON.stringify(doc));
  if (!r.ok) throw new Error(r.error);
  return r.snapshot;
}

const NO_WAL: WalReading = { walSize: 0, pageSize: 4096 };

/** Observes `[t, snapshot]` pairs at 1 Hz; the last facts and the restarts reported. */
function watch(obs: [number, StatsSnapshot | undefined][], windowSec = 30) {
  const restarts: [CounterPoint, CounterPoint][] = [];
  const w = createIngestWatch({ windowSec, onRestart: (a, b) => restarts.push([a, b]) });
  let facts: IngestFacts = w.facts();
  for (const [t, s] of obs) facts = w.observe(t, s, NO_WAL);
  return { facts, restarts, w };
}

Deno.test("the window: rows, errors and packets from its first observation to its last", () => {
  const { facts } = watch([
    [0, snap({ rows: 10, dupes: 1, obs: 10, errors: 2, packets: { a: 5 } })],
    [1000, snap({ rows: 12, dupes: 2, obs: 13, errors: 2, packets: { a: 9 } })],
  ]);
  assert.deepEqual(facts.window!.from, { t: 0, writes: 21, errors: 2, packets: { a: 5 } });
  assert.deepEqual(facts.window!.to, { t: 1000, writes: 27, errors: 2, packets: { a: 9 } });
});

Deno.test("the window keeps one point at or before its start, so it spans all of it", () => {
  const obs: [number, StatsSnapshot][] = [];
  for (let s = 0; s <= 40; s++) obs.push([s * 1000, snap({ rows: s })]);
  const { facts } = watch(obs, 30);
  assert.equal(facts.window!.from.t, 10_000, "exactly windowSec before the last");
  assert.equal(facts.window!.to.t, 40_000);
});

Deno.test("no window: one observation, no observation within it, or a file without counters", () => {
  assert.equal(watch([[0, snap({ rows: 1 })]]).facts.window, undefined, "one point");
  // The last counters are older than the window (the file went stale): no window.
  const stale = watch([[0, snap({ rows: 1 })], [1000, snap({ rows: 2 })], [40_000, undefined]]);
  assert.equal(stale.facts.window, undefined);
  for (const omit of ["tx_inserted", "tx_dupes", "obs_inserted", "write_errors"]) {
    const r = watch([[0, snap({ omit })], [1000, snap({ omit })]]);
    assert.equal(r.facts.window, undefined, `${omit} omitted: an older ingestor`);
    // Every other counter there: only the wrong type can make this one absent.
    const typed = parseStatsSnapshot(JSON.stringify({ ...ALL_COUNTERS, [omit]: "x" }));
    assert.ok(typed.ok);
    const t = watch([[0, typed.snapshot], [1000, typed.snapshot]]);
    assert.equal(t.facts.window, undefined, `${omit} of the wrong type`);
  }
  // Counters the watch does not judge by may be missing: the window is there.
  const other = watch([[0, snap({ omit: "node_upserts" })], [1000, snap({})]]);
  assert.ok(other.facts.window);
});

/** Every counter of a current ingestor, none omitted. */
const ALL_COUNTERS = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0]));

Deno.test("a file with every counter and no source list: a window, and no packets", () => {
  const full = parseStatsSnapshot(JSON.stringify({ ...ALL_COUNTERS, tx_inserted: 4 }));
  assert.ok(full.ok);
  assert.equal(full.snapshot.omitted, undefined);
  const { facts, w } = watch([[0, full.snapshot], [1000, full.snapshot]]);
  assert.deepEqual(facts.window!.to, { t: 1000, writes: 4, errors: 0, packets: {} });
  assert.deepEqual(w.facts(), facts, "facts() is the last observation's");
});

Deno.test("a restart: seen through any counter going back, reported once, the window afresh", () => {
  const before = { rows: 100, errors: 5, packets: { a: 50, b: 7 } };
  const cases: [string, Parameters<typeof snap>[0]][] = [
    ["rows back to 0", { rows: 0, errors: 5, packets: { a: 50, b: 7 } }],
    ["only write_errors back", { rows: 100, errors: 0, packets: { a: 50, b: 7 } }],
    ["only one source's packets back", { rows: 100, errors: 5, packets: { a: 50, b: 0 } }],
  ];
  for (const [name, after] of cases) {
    const { facts, restarts } = watch([[0, snap(before)], [1000, snap(after)]]);
    assert.equal(facts.restarts, 1, name);
    assert.equal(restarts.length, 1, name);
    assert.equal(restarts[0]![0].writes, 100, `${name}: the counters before`);
    // The pre-restart point is gone: no window until a second point after the restart.
    assert.equal(facts.window, undefined, `${name}: a window afresh`);
  }
  // A source that appears (none before) is no restart.
  assert.equal(
    watch([[0, snap({ packets: {} })], [1000, snap({ packets: { a: 1 } })]]).facts
      .restarts,
    0,
  );
});

Deno.test("after a restart, a pre-restart point cannot hide write_failing", () => {
  // Before: 100 rows. After the restart the writes fail: rows flat at 0, errors grow.
  const obs: [number, StatsSnapshot][] = [[0, snap({ rows: 100, packets: { a: 100 } })]];
  for (let s = 1; s <= 12; s++) obs.push([s * 1000, snap({ rows: 0, packets: { a: s * 5 } })]);
  const { facts } = watch(obs);
  assert.equal(facts.window!.from.t, 1000, "the window starts after the restart");
  assert.equal(writesVerdict(facts.window), "write_failing", "rows flat while packets arrive");
});

Deno.test("writes: flat rows need 10 s; duplicates are writes; errors at once", () => {
  const flat = (sec: number) =>
    watch([[0, snap({ rows: 5, packets: { a: 1 } })], [
      sec * 1000,
      snap({ rows: 5, packets: { a: 9 } }),
    ]]).facts.window;
  assert.equal(writesVerdict(flat(9.999)), "ok", "under 10 s: a slow write, not a stall");
  assert.equal(writesVerdict(flat(10)), "write_failing");
  const dupes = watch([[0, snap({ rows: 5, dupes: 0, packets: { a: 1 } })], [
    20_000,
    snap({ rows: 5, dupes: 8, packets: { a: 9 } }),
  ]]);
  assert.equal(writesVerdict(dupes.facts.window), "ok", "only duplicates: still written");
  const quiet = watch([[0, snap({ rows: 5, packets: { a: 1 } })], [
    20_000,
    snap({ rows: 5, packets: { a: 1 } }),
  ]]);
  assert.equal(writesVerdict(quiet.facts.window), "ok", "no packets, no rows: a quiet mesh");
  const errs = watch([[0, snap({ errors: 0 })], [1000, snap({ errors: 1 })]]);
  assert.equal(writesVerdict(errs.facts.window), "write_failing", "one error, at once");
});

Deno.test("the window's memory is bounded however fast it is called", () => {
  const w = createIngestWatch({ windowSec: 10, onRestart: () => {} });
  let facts: IngestFacts = w.facts();
  for (let i = 0; i < 10_000; i++) facts = w.observe(i, snap({ rows: i }), NO_WAL);
  // 4 × windowSec + 4 points at most: the oldest kept is exactly that many calls back.
  assert.equal(facts.window!.from.t, 9999 - 43);
  assert.equal(facts.window!.to.t, 9999);
});

Deno.test("writer_perf becomes each component's count, contention and p99s", () => {
  const writers = {
    mqtt_handler: {
      count: 9,
      contention_total: 2,
      wait_ms_p50: 0.1,
      wait_ms_p95: 0.2,
      wait_ms_p99: 0.3,
      wait_ms_max: 0.4,
      hold_ms_p50: 1,
      hold_ms_p95: 2,
      hold_ms_p99: 3,
      hold_ms_max: 4,
    },
  };
  const { facts } = watch([[0, snap({ writers })], [1000, snap({ writers })]]);
  assert.deepEqual(facts.window!.to.writers, {
    mqtt_handler: { count: 9, contention: 2, waitP99: 0.3, holdP99: 3 },
  });
  const none = watch([[0, snap({})], [1000, snap({})]]);
  assert.equal(none.facts.window!.to.writers, undefined, "no writer_perf, no writers");
});

Deno.test("the WAL: its generation since it was first seen, its age in whole seconds, its growth", () => {
  const w = createIngestWatch({ windowSec: 30, onRestart: () => {} });
  const wal = (gen: string | undefined, size: number): WalReading => ({
    walSize: size,
    pageSize: 4096,
    ...(gen ? { walGeneration: gen } : {}),
  });
  w.observe(0, undefined, wal("g1", 1000));
  let f = w.observe(1499, undefined, wal("g1", 5000));
  assert.deepEqual(f.wal, {
    generation: "g1",
    since: 0,
    ageSec: 1,
    sizeAtSince: 1000,
    size: 5000,
    pageSize: 4096,
  });
  f = w.observe(3000, undefined, wal("g2", 5000));
  assert.equal(f.wal!.since, 3000, "a reset: a new generation from now");
  assert.equal(f.wal!.sizeAtSince, 5000);
  assert.equal(w.observe(4000, undefined, wal(undefined, 0)).wal, undefined, "no WAL");
  assert.equal(w.observe(5000, undefined, wal("g2", 0)).wal!.since, 5000, "seen anew");
  assert.equal(w.observe(7600, undefined, wal("g2", 0)).wal!.ageSec, 3, "2.6 s since");
});

Deno.test("the disk: observed with the database and its WAL's bytes, absent when not read", () => {
  const w = createIngestWatch({ windowSec: 30, diskWindowSec: 60, onRestart: () => {} });
  const db = { walSize: 100, pageSize: 4096, dbSize: 900 };
  const disk = { ok: true as const, freeBytes: 5000, sizeBytes: 10_000 };
  const f = w.observe(0, undefined, db, disk);
  assert.equal(f.disk!.dbBytes, 1000, "file plus WAL");
  assert.equal(f.disk!.windowSec, 60);
  assert.equal(w.observe(1000, undefined, db).disk, undefined, "not read this time");
  assert.equal(w.observe(2000, undefined, db, { ok: false, detail: "x" }).disk, undefined);
});
