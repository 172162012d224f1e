/** The disk forecast and its verdict, as tables of observations in and facts or verdicts out. */
import assert from "node:assert/strict";
import { createDiskWatch, type DiskFacts, diskVerdict } from "../src/judge/disk_forecast.ts";
import { readDiskSpace } from "../src/inputs/disk_space.ts";

const MiB = 1024 * 1024;
const disk = (free: number) => ({ ok: true as const, freeBytes: free, sizeBytes: 1000 * MiB });

/** Feeds `[t ms, free, db]` observations; the facts after the last. */
function run(windowSec: number, obs: [number, number, number][]): DiskFacts | undefined {
  const w = createDiskWatch({ windowSec });
  let f: DiskFacts | undefined;
  for (const [t, free, db] of obs) f = w.observe(t, disk(free), db);
  return f;
}

Deno.test("disk forecast: learning until a quarter of the window, then free / rate", () => {
  const cases: { name: string; obs: [number, number, number][]; want: Partial<DiskFacts> }[] = [
    {
      name: "one observation: learning, nothing consumed",
      obs: [[0, 100 * MiB, 0]],
      want: { learning: true, spanSec: 0, consumeBytesPerSec: 0, fullInSec: undefined },
    },
    {
      name: "just under a quarter (899 s of 3600): learning",
      obs: [[0, 100 * MiB, 0], [899_000, 99 * MiB, MiB]],
      want: { learning: true },
    },
    {
      name: "a quarter: the forecast speaks",
      obs: [[0, 100 * MiB, 0], [900_000, 10 * MiB, 90 * MiB]],
      want: { learning: false, consumeBytesPerSec: (90 * MiB) / 900, fullInSec: 100 },
    },
    {
      name: "the database flat, the free space falling (logs): the decline is the rate",
      obs: [[0, 100 * MiB, 5 * MiB], [1_000_000, 50 * MiB, 5 * MiB]],
      want: { growthBytesPerSec: 0, consumeBytesPerSec: (50 * MiB) / 1000, fullInSec: 1000 },
    },
    {
      name: "the database shrank (a VACUUM), free space grew: nothing consumed, no forecast",
      obs: [[0, 50 * MiB, 90 * MiB], [1_000_000, 90 * MiB, 50 * MiB]],
      want: { consumeBytesPerSec: 0, fullInSec: undefined, learning: false },
    },
  ];
  for (const c of cases) {
    const f = run(3600, c.obs)!;
    for (const [k, v] of Object.entries(c.want)) {
      assert.equal(f[k as keyof DiskFacts], v, `${c.name}: ${k}`);
    }
  }
});

Deno.test("disk forecast: the rate is the last window's only; memory is 61 observations", () => {
  const w = createDiskWatch({ windowSec: 600 });
  // Fast growth for 10 minutes, then flat for 11: the old growth is out of the window.
  let free = 1000 * MiB, db = 0, f: DiskFacts | undefined;
  for (let s = 0; s <= 600; s++) f = w.observe(s * 1000, disk(free -= MiB / 10), db += MiB / 10);
  assert.ok(f!.fullInSec !== undefined);
  for (let s = 601; s <= 1260; s++) f = w.observe(s * 1000, disk(free), db);
  assert.equal(f!.fullInSec, undefined, "flat for a whole window: no forecast");
  assert.ok(f!.spanSec <= 600 && f!.spanSec >= 590, `${f!.spanSec}`);
  // A caller faster than 1 Hz keeps no more than 61 points: the span stays the window's.
  const fast = createDiskWatch({ windowSec: 60 });
  for (let t = 0; t <= 120_000; t += 10) f = fast.observe(t, disk(MiB), 0);
  assert.ok(f!.spanSec <= 60, `${f!.spanSec}`);
});

Deno.test("disk forecast: an unreadable disk or a clock that went back starts it again", () => {
  const w = createDiskWatch({ windowSec: 60 });
  w.observe(0, disk(100 * MiB), 0);
  assert.equal(w.observe(30_000, disk(90 * MiB), 0)!.learning, false);
  assert.equal(w.observe(31_000, { ok: false, detail: "gone" }, 0), undefined);
  assert.equal(w.observe(32_000, disk(90 * MiB), 0)!.spanSec, 0, "learning again");
  w.observe(50_000, disk(80 * MiB), 0);
  assert.equal(w.observe(10_000, disk(80 * MiB), 0)!.spanSec, 0, "the clock went back");
});

Deno.test("disk verdict: unknown, full, low by floor or forecast, ok", () => {
  const policy = { diskLowHours: 24, diskLowMiB: 256, diskWindowSec: 3600 };
  const base: DiskFacts = {
    freeBytes: 8192 * MiB,
    sizeBytes: 32768 * MiB,
    dbBytes: 1024 * MiB,
    spanSec: 3600,
    windowSec: 3600,
    learning: false,
    growthBytesPerSec: 1000,
    consumeBytesPerSec: 1000,
    fullInSec: (8192 * MiB) / 1000,
  };
  const ok = { pageSize: 4096, ingestFailing: false };
  const failing = { pageSize: 4096, ingestFailing: true };
  const cases: [string, DiskFacts | undefined, typeof ok, string][] = [
    ["no reading", undefined, ok, "unknown"],
    ["days left", base, ok, "ok"],
    ["a day less a second left", { ...base, fullInSec: 86_399 }, ok, "low"],
    ["exactly a day left", { ...base, fullInSec: 86_400 }, ok, "ok"],
    ["an hour left, but learning", { ...base, fullInSec: 3600, learning: true }, ok, "ok"],
    [
      "under the floor, nothing consumed",
      {
        ...base,
        freeBytes: 255 * MiB,
        fullInSec: undefined,
      },
      ok,
      "low",
    ],
    ["at the floor", { ...base, freeBytes: 256 * MiB, fullInSec: undefined }, ok, "ok"],
    [
      "under the floor while learning",
      {
        ...base,
        freeBytes: 100 * MiB,
        learning: true,
      },
      ok,
      "low",
    ],
    ["1000 pages left, the ingest fails", { ...base, freeBytes: 4096 * 1000 }, failing, "full"],
    ["1001 pages left, the ingest fails", { ...base, freeBytes: 4096 * 1001 }, failing, "low"],
    ["nothing left, the ingest fine (yet)", { ...base, freeBytes: 0 }, ok, "low"],
    ["64 KiB pages: 1000 of them is 62.5 MiB", { ...base, freeBytes: 60 * MiB }, {
      pageSize: 65536,
      ingestFailing: true,
    }, "full"],
    ["no page size known: 4096", { ...base, freeBytes: 4_000_000 }, {
      pageSize: 0,
      ingestFailing: true,
    }, "full"],
  ];
  for (const [name, facts, ingest, want] of cases) {
    assert.equal(diskVerdict(facts, policy, ingest), want, name);
  }
});

Deno.test("disk space: statfs of the database file itself; a failure says why", () => {
  const seen: string[] = [];
  const r = readDiskSpace("/data/m.db", (p) => {
    seen.push(p);
    return { bsize: 4096, blocks: 10, bavail: 3 };
  });
  assert.deepEqual(r, { ok: true, freeBytes: 12288, sizeBytes: 40960 });
  assert.deepEqual(seen, ["/data/m.db"]);
  const denied = readDiskSpace("/data/m.db", () => {
    throw Object.assign(new Error("Requires sys access"), { name: "NotCapable" });
  });
  assert.deepEqual(denied, {
    ok: false,
    detail: "/data/m.db: statfs not granted (--allow-sys=statfs)",
  });
  const gone = readDiskSpace("/data/m.db", () => {
    throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  });
  assert.deepEqual(gone, { ok: false, detail: "/data/m.db: statfs failed (ENOENT)" });
  // For real, under the test task's --allow-sys=statfs: this file's filesystem.
  const real = readDiskSpace(new URL(import.meta.url).pathname);
  assert.ok(real.ok && real.sizeBytes > 0 && real.freeBytes <= real.sizeBytes);
});

Deno.test("disk forecast: a point every window/60, the oldest kept at the window's start exactly", () => {
  // An hour's window observed every second for two: points every 60 s, 61 of them.
  const w = createDiskWatch({ windowSec: 3600 });
  const at = (s: number) => w.observe(s * 1000, disk(1e12 - s * 500), s * 1000)!;
  for (let s = 0; s < 7200; s++) at(s);
  const f = at(7200);
  assert.deepEqual([f.spanSec, f.growthBytesPerSec, f.consumeBytesPerSec], [3600, 1000, 1000]);
  // 5 s on: the point at 3600 s is older than the window, the next kept is at 3660 s.
  assert.equal(at(7205).spanSec, 3545);
  assert.equal(at(7205).spanSec, 3545, "the same time again changes nothing");
  assert.equal(at(7260).spanSec, 3600, "a new point at 7260 s");
});

Deno.test("disk forecast: an observation after a gap longer than the window stands alone", () => {
  const w = createDiskWatch({ windowSec: 60 });
  w.observe(0, disk(100 * MiB), 0);
  const f = w.observe(3 * 3600_000, disk(90 * MiB), 10 * MiB)!;
  assert.deepEqual([f.spanSec, f.learning, f.consumeBytesPerSec], [0, true, 0]);
});
