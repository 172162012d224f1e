import assert from "node:assert/strict";
import { DEFAULTS } from "../src/app/config.ts";
import { policyOf } from "../src/app/runtime.ts";
import type { ReadFailureKind } from "../src/base/safe_read.ts";
import type { StatsState } from "../src/inputs/stats_cache.ts";
import { parseStatsSnapshot } from "../src/inputs/stats_snapshot.ts";
import {
  judgeIngest,
  sourceVerdict,
  statsFileVerdict,
  verdictsValidUntil,
  writerLockVerdict,
  writesVerdict,
} from "../src/judge/verdicts.ts";
import type { CounterPoint, WriterPoint } from "../src/judge/ingest_watch.ts";

const T = { receiptStaleAfterSec: 60, writeStaleAfterSec: 120 };
const NOW = 10_000;

Deno.test("sourceVerdict: the four verdicts", () => {
  assert.equal(sourceVerdict({ lastReceiptUnix: 0, lastMessageUnix: 0 }, NOW, T), "never");
  assert.equal(sourceVerdict({ lastReceiptUnix: NOW - 1, lastMessageUnix: NOW - 1 }, NOW, T), "ok");
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 1, lastMessageUnix: NOW - 500 }, NOW, T),
    "write_stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 500, lastMessageUnix: NOW - 500 }, NOW, T),
    "stalled",
  );
});

Deno.test("sourceVerdict: thresholds are inclusive and separate for the two clocks", () => {
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 60, lastMessageUnix: NOW - 120 }, NOW, T),
    "ok",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 60, lastMessageUnix: NOW - 121 }, NOW, T),
    "write_stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 61, lastMessageUnix: NOW - 121 }, NOW, T),
    "stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW, lastMessageUnix: 0 }, NOW, T),
    "write_stalled",
    "received, never written",
  );
});

/** The defaults, with a shorter receipt threshold. */
const POLICY = { ...policyOf(DEFAULTS), receiptStaleAfterSec: 60 };

function state(doc: Record<string, unknown>): StatsState {
  const p = parseStatsSnapshot(JSON.stringify(doc));
  assert.ok(p.ok);
  return { kind: "ok", version: 1, snapshot: p.snapshot };
}

const STAMP = new Date(NOW * 1000).toISOString();

Deno.test("judgeIngest: summary; a degraded ingest is reported, a missing file is down", () => {
  const live = {
    b: { lastReceiptUnix: NOW, lastMessageUnix: NOW },
    a: { lastReceiptUnix: 0, lastMessageUnix: 0 },
  };
  const at = NOW * 1000;
  assert.deepEqual(
    judgeIngest(state({ sampledAt: STAMP, source_liveness: live }), at, POLICY, { restarts: 0 }),
    {
      status: "ok",
      statsFile: "fresh",
      sources: { a: "never", b: "ok" },
      writes: "unknown",
      database: "ok",
      clock: "ok",
      disk: "unknown",
      writerLock: "unknown",
    },
  );
  const old = state({ sampledAt: "2020-01-01T00:00:00Z", source_liveness: live });
  assert.equal(judgeIngest(old, at, POLICY, { restarts: 0 }).status, "down");
  const stalled = { b: { lastReceiptUnix: NOW, lastMessageUnix: 1 } };
  const s = state({ sampledAt: STAMP, source_liveness: stalled });
  assert.equal(judgeIngest(s, at, POLICY, { restarts: 0 }).status, "degraded");
  const gone: StatsState = { kind: "unavailable", version: 1, reason: "missing", detail: "" };
  assert.equal(judgeIngest(gone, at, POLICY, { restarts: 0 }).status, "down");
});

Deno.test("statsFileVerdict: missing, invalid (a directory, bad JSON), stale, fresh", () => {
  const un = (reason: ReadFailureKind | "invalid"): StatsState => ({
    kind: "unavailable",
    version: 1,
    reason,
    detail: "",
  });
  assert.equal(statsFileVerdict(un("missing"), { fresh: false }), "missing");
  for (const r of ["not_regular", "symlink", "too_large", "invalid", "permission"] as const) {
    assert.equal(statsFileVerdict(un(r), { fresh: false }), "invalid", r);
  }
  const p = parseStatsSnapshot("{}");
  assert.ok(p.ok);
  const ok: StatsState = { kind: "ok", version: 1, snapshot: p.snapshot };
  assert.equal(statsFileVerdict(ok, { fresh: false }), "stale");
  assert.equal(statsFileVerdict(ok, { fresh: true }), "fresh");
});

Deno.test("sourceVerdict: judged at the real time, not a rounded second", () => {
  const c = { lastReceiptUnix: NOW - 1, lastMessageUnix: NOW - 120 };
  assert.equal(sourceVerdict(c, NOW, T), "ok", "120 s exactly");
  assert.equal(sourceVerdict(c, NOW + 0.001, T), "write_stalled", "120.001 s");
});

/** A window from `from` to `to` writer figures, 30 s apart, the rows growing. */
function lockWindow(
  from: Record<string, WriterPoint> | undefined,
  to: Record<string, WriterPoint> | undefined,
): { from: CounterPoint; to: CounterPoint } {
  const p = (t: number, w: typeof from): CounterPoint => ({
    t,
    writes: t,
    errors: 0,
    packets: {},
    ...(w ? { writers: w } : {}),
  });
  return { from: p(0, from), to: p(30_000, to) };
}
const w = (count: number, contention: number, waitP99: number, holdP99: number) => ({
  count,
  contention,
  waitP99,
  holdP99,
});

Deno.test("writerLockVerdict: each rule as a case", () => {
  const policy = { writerLockMs: 1000, writerContentionCount: 3 };
  const cases: [string, ReturnType<typeof lockWindow> | undefined, string][] = [
    ["no window", undefined, "unknown"],
    ["no writer_perf (an older ingestor)", lockWindow(undefined, undefined), "unknown"],
    ["quiet and fast", lockWindow({ m: w(10, 0, 0.1, 2) }, { m: w(40, 0, 0.1, 2) }), "ok"],
    [
      "3 waits over 100 ms",
      lockWindow({ m: w(10, 5, 0.1, 2) }, { m: w(40, 8, 0.1, 2) }),
      "contended",
    ],
    ["2 waits over 100 ms", lockWindow({ m: w(10, 5, 0.1, 2) }, { m: w(40, 7, 0.1, 2) }), "ok"],
    [
      "3 queued across two components",
      lockWindow({ a: w(1, 0, 0, 0), b: w(1, 0, 0, 0) }, { a: w(2, 2, 0, 0), b: w(2, 1, 0, 0) }),
      "contended",
    ],
    [
      "a restart in between (contention went back): no negative count",
      lockWindow({ m: w(10, 50, 0.1, 2) }, { m: w(40, 0, 0.1, 2) }),
      "ok",
    ],
    [
      "wait p99 moved to 1000 ms",
      lockWindow({ m: w(10, 0, 5, 2) }, { m: w(40, 0, 1000, 2) }),
      "contended",
    ],
    ["wait p99 moved to 999 ms", lockWindow({ m: w(10, 0, 5, 2) }, { m: w(40, 0, 999, 2) }), "ok"],
    [
      "wait p99 high but the same (old news)",
      lockWindow({ m: w(10, 0, 1500, 2) }, { m: w(40, 0, 1500, 2) }),
      "ok",
    ],
    [
      "wait p99 moved, but no write in the window",
      lockWindow({ m: w(40, 0, 5, 2) }, { m: w(40, 0, 1500, 2) }),
      "ok",
    ],
    [
      "the ingest's hold p99 moved past 1000 ms",
      lockWindow({ mqtt_handler: w(10, 0, 0, 2) }, { mqtt_handler: w(40, 0, 0, 2400) }),
      "contended",
    ],
    [
      "a prune's own long hold is its nature",
      lockWindow({ prune_packets: w(1, 0, 0, 2) }, { prune_packets: w(2, 0, 0, 9000) }),
      "ok",
    ],
    [
      "a component new in the window, slow at once",
      lockWindow({}, { vacuum: w(1, 0, 2000, 60_000) }),
      "contended",
    ],
  ];
  for (const [name, window, want] of cases) {
    assert.equal(writerLockVerdict(window, policy), want, name);
  }
});

Deno.test("verdictsValidUntil: the next clock threshold, to the millisecond", () => {
  const policy = {
    receiptStaleAfterSec: 120,
    writeStaleAfterSec: 60,
    clockSkewMs: 2000,
    walResetStaleAfterSec: 120,
  };
  const snap = (doc: Record<string, unknown>) => state({ sampledAt: STAMP, ...doc });
  const at = NOW * 1000;
  const live = (r: number, m: number) => ({
    source_liveness: { a: { lastReceiptUnix: r, lastMessageUnix: m } },
  });
  const cases: [string, StatsState, object, number][] = [
    ["the write clock first", snap(live(NOW, NOW - 10)), { restarts: 0 }, (NOW + 50) * 1000],
    ["the receipt clock first", snap(live(NOW - 100, NOW)), { restarts: 0 }, (NOW + 20) * 1000],
    ["thresholds already passed: none left", snap(live(NOW - 500, NOW - 500)), {
      restarts: 0,
    }, Infinity],
    ["a stamp ahead: until it is no longer", snap(live(NOW + 10, NOW + 10)), {
      restarts: 0,
    }, (NOW + 8) * 1000 - 1],
    ["the WAL's age", snap({}), {
      restarts: 0,
      wal: {
        generation: "g",
        since: at - 100_000,
        ageSec: 100,
        sizeAtSince: 0,
        size: 0,
        pageSize: 4096,
      },
    }, at + 20_000 - 1],
    ["no snapshot: only the WAL", {
      kind: "unavailable",
      version: 1,
      reason: "missing",
      detail: "",
    }, {
      restarts: 0,
    }, Infinity],
  ];
  for (const [name, st, facts, want] of cases) {
    assert.equal(verdictsValidUntil(st, facts as { restarts: number }, policy, at), want, name);
  }
  // And the verdicts do hold to it and change after it.
  const full = { ...POLICY, writeStaleAfterSec: 60 };
  const s1 = snap(live(NOW, NOW - 10));
  const until = verdictsValidUntil(s1, { restarts: 0 }, policy, at);
  assert.equal(judgeIngest(s1, until, full, { restarts: 0 }).sources.a, "ok");
  assert.equal(judgeIngest(s1, until + 1, full, { restarts: 0 }).sources.a, "write_stalled");
});

Deno.test("clock: each stamp judged; within the skew is fine; milliseconds outrank ahead", () => {
  // A real epoch: a stamp in milliseconds is then past 1e11.
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const live = (r: number, m = r) => ({ a: { lastReceiptUnix: r, lastMessageUnix: m } });
  const cases: [string, Record<string, unknown>, string, string][] = [
    ["in step", { source_liveness: live(R) }, "ok", "ok"],
    ["2 s ahead: the skew allowed", { source_liveness: live(R + 2) }, "ok", "ok"],
    ["3 s ahead", { source_liveness: live(R + 3) }, "ahead", "clock_wrong"],
    [
      "the write clock alone ahead",
      { source_liveness: live(R, R + 60) },
      "ahead",
      "clock_wrong",
    ],
    ["milliseconds", { source_liveness: live(R * 1000) }, "milliseconds", "clock_wrong"],
    [
      "milliseconds outrank ahead",
      { source_liveness: { a: live(R + 60).a, b: live(R * 1000).a } },
      "milliseconds",
      "clock_wrong",
    ],
    [
      "a status stamp ahead",
      {
        source_statuses: [{ name: "a", connected: true, lastPacketUnix: R + 600 }],
      },
      "ahead",
      "ok",
    ],
    ["the watchdog's stamp ahead", { watchdogLastTickUnix: R + 600 }, "ahead", "-"],
  ];
  for (const [name, doc, clock, source] of cases) {
    const v = judgeIngest(state({ sampledAt: stamp, ...doc }), at, POLICY, { restarts: 0 });
    assert.equal(v.clock, clock, name);
    if (source !== "-") assert.equal(v.sources.a, source, `${name}: source`);
    assert.equal(v.status, clock === "ok" ? "ok" : "degraded", `${name}: status`);
  }
  // The file's own stamp in our future, beyond the skew: the clock is ahead (and it is not fresh).
  const future = new Date(at + 60_000).toISOString();
  const v = judgeIngest(state({ sampledAt: future }), at, POLICY, { restarts: 0 });
  assert.equal(v.clock, "ahead");
  assert.equal(v.statsFile, "stale");
});

Deno.test("writes and the writer lock are unknown while the stats file is not fresh", () => {
  const p = (t: number, errors: number) => ({ t, writes: 0, errors, packets: {}, writers: {} });
  const facts = { restarts: 0, window: { from: p(0, 0), to: p(30_000, 9) } };
  const old = state({ sampledAt: "2020-01-01T00:00:00Z" });
  const v = judgeIngest(old, NOW * 1000, POLICY, facts);
  assert.deepEqual([v.writes, v.writerLock, v.status], ["unknown", "unknown", "down"]);
  const fresh = judgeIngest(state({ sampledAt: STAMP }), NOW * 1000, POLICY, facts);
  assert.deepEqual([fresh.writes, fresh.writerLock], ["write_failing", "ok"]);
});

Deno.test("database: starved only when old, past 2000 pages and still growing", () => {
  const at = 1_000_000;
  const wal = (ageMs: number, sizeAtSince: number, size: number, pageSize = 4096) => ({
    generation: "g",
    since: at - ageMs,
    ageSec: Math.round(ageMs / 1000),
    sizeAtSince,
    size,
    pageSize,
  });
  const big = 2000 * 4096;
  const cases: [string, ReturnType<typeof wal> | undefined, string][] = [
    ["no WAL", undefined, "ok"],
    ["old, big, growing", wal(120_000, big, big + 1), "checkpoint_starved"],
    ["119.999 s old", wal(119_999, big, big + 1), "ok"],
    ["at 2000 pages exactly", wal(120_000, big - 10, big), "ok"],
    ["quiet: big and old but not growing", wal(600_000, big * 4, big * 4), "ok"],
    ["shrank", wal(600_000, big * 4, big * 3), "ok"],
    ["64 KiB pages: 2000 of them is 125 MiB", wal(120_000, big, big * 10, 65536), "ok"],
  ];
  for (const [name, w, want] of cases) {
    const facts = { restarts: 0, ...(w ? { wal: w } : {}) };
    const v = judgeIngest(state({ sampledAt: new Date(at).toISOString() }), at, POLICY, facts);
    assert.equal(v.database, want, name);
  }
});

Deno.test("sources: every name of either list, worst first, sorted; status-only ones by their last packet", () => {
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const p = (t: number, packets: Record<string, number>, errors = 0) => ({
    t,
    writes: 10,
    errors,
    packets,
  });
  const failing = {
    restarts: 0,
    window: { from: p(0, { b: 1, c: 1, e: 1 }), to: p(30_000, { b: 9, c: 9, e: 1 }, 5) },
  };
  const doc = {
    sampledAt: stamp,
    source_liveness: {
      // a: fine; b: packets grew while writes fail; c: also disconnected; d: its clock ahead
      // and also disconnected; e: failing writes, but nothing arrived for it. Not in order.
      b: { lastReceiptUnix: R, lastMessageUnix: R },
      a: { lastReceiptUnix: R, lastMessageUnix: R },
      c: { lastReceiptUnix: R, lastMessageUnix: R },
      d: { lastReceiptUnix: R + 600, lastMessageUnix: R },
      e: { lastReceiptUnix: R, lastMessageUnix: R },
    },
    source_statuses: [
      { name: "c", connected: false, lastError: "EOF" },
      { name: "d", connected: false, lastError: "refused" },
      { name: "f", connected: true, lastPacketUnix: R - 119 },
      { name: "g", connected: true, lastPacketUnix: R - 121 },
      { name: "h", connected: true, lastPacketUnix: 0 },
      { name: "b", connected: true },
    ],
  };
  const policy = { ...POLICY, receiptStaleAfterSec: 120, writeStaleAfterSec: 60 };
  const v = judgeIngest(state(doc), at, policy, failing);
  assert.deepEqual(Object.keys(v.sources), ["a", "b", "c", "d", "e", "f", "g", "h"], "sorted");
  assert.deepEqual(v.sources, {
    a: "ok",
    b: "write_failing",
    c: "disconnected",
    d: "clock_wrong",
    e: "ok",
    f: "ok",
    g: "stalled",
    h: "never",
  });
  // The last error of each disconnected source, only: d is clock_wrong first.
  assert.deepEqual(v.lastErrors, { c: "EOF" });
  const none = judgeIngest(state({ sampledAt: stamp }), at, policy, { restarts: 0 });
  assert.equal(none.lastErrors, undefined);
  assert.deepEqual(none.sources, {});
});

/** A filesystem of 1 GiB, the database 1 MiB of it, `freeBytes` free, nothing consumed. */
const diskFacts = (freeBytes: number) => ({
  freeBytes,
  sizeBytes: 1 << 30,
  dbBytes: 1 << 20,
  spanSec: 3600,
  windowSec: 3600,
  learning: false,
  growthBytesPerSec: 0,
  consumeBytesPerSec: 0,
});

Deno.test("status: each cause alone degrades, a source never heard from does not, a stale file is down", () => {
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const live = { a: { lastReceiptUnix: R, lastMessageUnix: R } };
  const p = (t: number, writes: number, errors: number, packets = {}, writers = {}) => ({
    t,
    writes,
    errors,
    packets,
    writers,
  });
  const flowing = { from: p(at - 30_000, 0, 0), to: p(at, 30, 0) };
  const big = 2000 * 4096;
  type Case = [string, Record<string, unknown>, Record<string, unknown>, Record<string, string>];
  const cases: Case[] = [
    ["all well", {}, { window: flowing, disk: diskFacts(1 << 30) }, { status: "ok", disk: "ok" }],
    [
      "a source never heard from",
      {
        source_liveness: { ...live, z: { lastReceiptUnix: 0, lastMessageUnix: 0 } },
      },
      {},
      { status: "ok" },
    ],
    [
      "a stalled source",
      {
        source_liveness: { a: { lastReceiptUnix: R - 600, lastMessageUnix: R - 600 } },
      },
      {},
      { status: "degraded" },
    ],
    ["writes failing", {}, { window: { from: p(at - 30_000, 0, 0), to: p(at, 30, 2) } }, {
      status: "degraded",
      writes: "write_failing",
    }],
    ["the writer lock contended, rows still written", {}, {
      window: {
        from: p(at - 30_000, 0, 0, {}, { mqtt_handler: w(1, 0, 0, 0) }),
        to: p(at, 30, 0, {}, { mqtt_handler: w(9, 3, 0, 0) }),
      },
    }, { status: "degraded", writes: "ok", writerLock: "contended" }],
    ["the WAL starved", {}, {
      wal: {
        generation: "g",
        since: at - 600_000,
        ageSec: 600,
        sizeAtSince: big,
        size: big + 1,
        pageSize: 4096,
      },
    }, { status: "degraded", database: "checkpoint_starved" }],
    ["the disk low", {}, { window: flowing, disk: diskFacts(1 << 20) }, {
      status: "degraded",
      disk: "low",
    }],
    ["no room, writes still fine: low, not full", {}, { window: flowing, disk: diskFacts(0) }, {
      status: "degraded",
      disk: "low",
    }],
    ["no room and writes failing: full", {}, {
      window: { from: p(at - 30_000, 0, 0), to: p(at, 30, 2) },
      disk: diskFacts(0),
    }, { status: "degraded", disk: "full" }],
    ["no room and the stats file no longer written: full", { sampledAt: "2020-01-01T00:00:00Z" }, {
      disk: diskFacts(0),
    }, { status: "down", disk: "full", statsFile: "stale" }],
  ];
  for (const [name, doc, facts, want] of cases) {
    const st = state({ sampledAt: stamp, source_liveness: live, ...doc });
    const v = judgeIngest(st, at, POLICY, { restarts: 0, ...facts } as never);
    for (const [k, val] of Object.entries(want)) {
      assert.equal((v as unknown as Record<string, unknown>)[k], val, `${name}: ${k}`);
    }
  }
  // No file at all and no room: down, and the disk cannot say the ingest failed for lack of it.
  const gone: StatsState = { kind: "unavailable", version: 1, reason: "missing", detail: "" };
  const v = judgeIngest(gone, at, POLICY, { restarts: 0, disk: diskFacts(0) });
  assert.deepEqual([v.status, v.disk], ["down", "low"]);
});

Deno.test("sources while writes are fine are not write_failing, whatever arrived", () => {
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const p = (t: number, writes: number, packets: Record<string, number>) => ({
    t,
    writes,
    errors: 0,
    packets,
  });
  const facts = {
    restarts: 0,
    window: { from: p(at - 30_000, 0, { a: 1 }), to: p(at, 30, { a: 9 }) },
  };
  const doc = {
    sampledAt: stamp,
    source_liveness: { a: { lastReceiptUnix: R, lastMessageUnix: R } },
  };
  const v = judgeIngest(state(doc), at, POLICY, facts);
  assert.deepEqual([v.writes, v.sources.a], ["ok", "ok"]);
});

Deno.test("a disconnected source with no error names none; a connected one's error is not shown", () => {
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const doc = {
    sampledAt: stamp,
    source_statuses: [
      { name: "a", connected: false },
      { name: "b", connected: true, lastPacketUnix: R, lastError: "old" },
    ],
  };
  const v = judgeIngest(state(doc), at, POLICY, { restarts: 0 });
  assert.deepEqual(v.sources, { a: "disconnected", b: "ok" });
  assert.equal(v.lastErrors, undefined);
});

Deno.test("sourceVerdict: a write clock alone is enough; a stamp of exactly 1e11 is milliseconds", () => {
  assert.equal(sourceVerdict({ lastReceiptUnix: 0, lastMessageUnix: NOW }, NOW, T), "ok");
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW, lastMessageUnix: 0 }, NOW, T),
    "write_stalled",
  );
  const at = 1_763_899_200_000, stamp = new Date(at).toISOString();
  const doc = {
    sampledAt: stamp,
    source_liveness: { a: { lastReceiptUnix: 1e11, lastMessageUnix: 1e11 } },
  };
  assert.equal(judgeIngest(state(doc), at, POLICY, { restarts: 0 }).clock, "milliseconds");
});

Deno.test("clock: milliseconds outrank ahead in either order, a future sampledAt too", () => {
  const R = 1_763_899_200, at = R * 1000;
  const stamp = new Date(at).toISOString(), future = new Date(at + 60_000).toISOString();
  const ms = { lastReceiptUnix: R * 1000, lastMessageUnix: R * 1000 };
  const ahead = { lastReceiptUnix: R + 600, lastMessageUnix: R + 600 };
  for (
    const [name, doc] of [
      ["milliseconds first", { sampledAt: stamp, source_liveness: { a: ms, b: ahead } }],
      ["ahead first", { sampledAt: stamp, source_liveness: { a: ahead, b: ms } }],
      ["a future file over milliseconds", { sampledAt: future, source_liveness: { a: ms } }],
    ] as const
  ) {
    assert.equal(judgeIngest(state(doc), at, POLICY, { restarts: 0 }).clock, "milliseconds", name);
  }
});

Deno.test("flat rows over less than 10 s are not failing, on a real epoch too", () => {
  const t0 = 1_763_899_200_000;
  const p = (t: number, packets: Record<string, number>) => ({ t, writes: 5, errors: 0, packets });
  assert.equal(writesVerdict({ from: p(t0, { a: 1 }), to: p(t0 + 9_999, { a: 5 }) }), "ok");
  assert.equal(
    writesVerdict({ from: p(t0, { a: 1 }), to: p(t0 + 10_000, { a: 5 }) }),
    "write_failing",
  );
});

Deno.test("writerLockVerdict: a component first seen in the window counts from zero", () => {
  const win = lockWindow({}, { mqtt_handler: w(5, 3, 0, 0) });
  assert.equal(writerLockVerdict(win, POLICY), "contended");
  const calm = lockWindow({}, { mqtt_handler: w(5, 2, 0, 0) });
  assert.equal(writerLockVerdict(calm, POLICY), "ok");
});

Deno.test("verdictsValidUntil: a threshold at this very millisecond, status stamps, the watchdog, stamps in ms", () => {
  const policy = {
    receiptStaleAfterSec: 120,
    writeStaleAfterSec: 60,
    clockSkewMs: 2000,
    walResetStaleAfterSec: 120,
  };
  const at = NOW * 1000;
  const snap = (doc: Record<string, unknown>) => state({ sampledAt: STAMP, ...doc });
  const cases: [string, StatsState, number][] = [
    [
      "the write clock stale after this millisecond",
      snap({
        source_liveness: { a: { lastReceiptUnix: NOW, lastMessageUnix: NOW - 60 } },
      }),
      at,
    ],
    [
      "a status-only source's last packet",
      snap({
        source_statuses: [{ name: "s", connected: true, lastPacketUnix: NOW - 100 }],
      }),
      (NOW + 20) * 1000,
    ],
    [
      "a status's connect stamp ahead",
      snap({
        source_statuses: [{ name: "s", connected: true, lastConnectUnix: NOW + 10 }],
      }),
      (NOW + 8) * 1000 - 1,
    ],
    ["the watchdog ahead", snap({ watchdogLastTickUnix: NOW + 10 }), (NOW + 8) * 1000 - 1],
    [
      "stamps in milliseconds are no threshold",
      snap({
        source_statuses: [{ name: "s", connected: true, lastConnectUnix: 1e11 }],
        watchdogLastTickUnix: 2e11,
      }),
      Infinity,
    ],
  ];
  for (const [name, st, want] of cases) {
    assert.equal(verdictsValidUntil(st, { restarts: 0 }, policy, at), want, name);
  }
});

Deno.test("status: one bad source among good ones degrades; disk full is judged in the database's own pages", () => {
  const R = 1_763_899_200, at = R * 1000, stamp = new Date(at).toISOString();
  const two = {
    a: { lastReceiptUnix: R, lastMessageUnix: R },
    b: { lastReceiptUnix: R - 600, lastMessageUnix: R - 600 },
  };
  const v = judgeIngest(state({ sampledAt: stamp, source_liveness: two }), at, POLICY, {
    restarts: 0,
  });
  assert.deepEqual([v.sources.a, v.sources.b, v.status], ["ok", "stalled", "degraded"]);
  // 1000 pages of 64 KiB is 62.5 MiB: 10 MiB free with writes failing is full there, where
  // 1000 pages of 4 KiB (3.9 MiB) would call it low.
  const p = (t: number, errors: number) => ({ t, writes: 0, errors, packets: {} });
  const facts = (pageSize: number) => ({
    restarts: 0,
    window: { from: p(at - 30_000, 0), to: p(at, 3) },
    wal: { generation: "g", since: at, ageSec: 0, sizeAtSince: 0, size: 0, pageSize },
    disk: diskFacts(10 * 1024 * 1024),
  });
  const disk = (pageSize: number) =>
    judgeIngest(state({ sampledAt: stamp }), at, POLICY, facts(pageSize)).disk;
  assert.deepEqual([disk(65536), disk(4096)], ["full", "low"]);
});
