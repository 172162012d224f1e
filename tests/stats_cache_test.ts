import assert from "node:assert/strict";
import type { ProbeResult, ReadResult } from "../src/base/safe_read.ts";
import { createStatsCache } from "../src/inputs/stats_cache.ts";
import { captureLogger, fixtureText, tempDir } from "./_helpers.ts";

/** An in-memory file the cache reads through injected probe/read functions. */
function fakeFile(initial: string | undefined) {
  let content = initial, ino = 1n;
  const io = { probes: 0, reads: 0, mtimeNs: 0n };
  const identity = () => ({
    dev: 1n,
    ino,
    size: BigInt(content?.length ?? 0),
    mtimeNs: io.mtimeNs,
  });
  return {
    io,
    write(text: string | undefined) {
      content = text;
      ino++;
    },
    /** A same-size rewrite that reuses the inode within one mtime tick: stat cannot tell. */
    rewriteInPlace(text: string) {
      content = text;
    },
    probe: (_: string): ProbeResult => {
      io.probes++;
      return content === undefined
        ? { ok: false, failure: { kind: "missing", detail: "gone" } }
        : { ok: true, identity: identity() };
    },
    read: (_: string, max: number): ReadResult => {
      io.reads++;
      if (content === undefined) return { ok: false, failure: { kind: "missing", detail: "gone" } };
      if (content.length > max) return { ok: false, failure: { kind: "too_large", detail: "big" } };
      return { ok: true, bytes: new TextEncoder().encode(content), identity: identity() };
    },
  };
}

Deno.test("one read and parse per file version, whatever the request rate", () => {
  const f = fakeFile(fixtureText("2026-11-23T12:00:00Z"));
  const cache = createStatsCache({ path: "p", maxBytes: 1 << 20, log: captureLogger(), ...f });
  for (let i = 0; i < 1000; i++) assert.equal(cache.get().kind, "ok");
  assert.equal(f.io.reads, 1);
  assert.deepEqual(cache.counters(), {
    hits: 999,
    misses: 1,
    opens: 1,
    parses: 1,
    versions: 1,
    deferred: 0,
  });
  f.write("{}");
  const s = cache.get();
  assert.equal(s.kind, "ok");
  assert.equal(s.version, 2);
  assert.equal(f.io.reads, 2);
});

Deno.test("negative results are cached per version too, and logged once", () => {
  const f = fakeFile("{not json");
  const log = captureLogger();
  const cache = createStatsCache({ path: "p", maxBytes: 1 << 20, log, ...f });
  for (let i = 0; i < 100; i++) assert.equal(cache.get().kind, "unavailable");
  assert.equal(f.io.reads, 1);
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0]!, /ERROR stats_file: p: not valid JSON/);
  f.write(undefined);
  for (let i = 0; i < 100; i++) {
    const s = cache.get();
    assert.ok(s.kind === "unavailable" && s.reason === "missing");
  }
  assert.equal(f.io.reads, 1, "a missing file is probed, never opened");
  f.write("{}");
  assert.equal(cache.get().kind, "ok");
  assert.match(log.lines.at(-1)!, /INFO stats_file: resolved/);
});

Deno.test("an oversized file is refused without parsing", () => {
  const f = fakeFile(`{"pad": "${"x".repeat(5000)}"}`);
  const cache = createStatsCache({ path: "p", maxBytes: 1024, log: captureLogger(), ...f });
  const s = cache.get();
  assert.ok(s.kind === "unavailable" && s.reason === "too_large");
  assert.equal(cache.counters().parses, 0);
});

Deno.test("bad fields are logged as one condition while they persist, not per version", () => {
  const f = fakeFile('{"tx_inserted": "x"}');
  const log = captureLogger();
  const cache = createStatsCache({ path: "p", maxBytes: 1 << 20, log, ...f });
  cache.get();
  f.write('{"tx_inserted": "x", "obs_inserted": 1}');
  cache.get();
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0]!, /tx_inserted: expected an integer/);
});

Deno.test("a symlink at the stats path is refused and logged", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  Deno.writeTextFileSync(t.path("real.json"), "{}");
  Deno.symlinkSync(t.path("real.json"), path);
  const log = captureLogger();
  const s = createStatsCache({ path, maxBytes: 1 << 20, log }).get();
  assert.ok(s.kind === "unavailable" && s.reason === "symlink");
  assert.match(log.lines[0]!, /symlink: refused/);
});

Deno.test("the cached version stays open, so its inode is never reused by a new version", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  const cache = createStatsCache({ path, maxBytes: 1 << 20, log: captureLogger() });
  const write = (n: number) => {
    Deno.writeTextFileSync(`${path}.tmp`, `{"tx_inserted": ${n}}`);
    Deno.renameSync(`${path}.tmp`, path);
  };
  // Same size, same mtime tick, and a filesystem that recycles inodes: without the pin, a
  // third version could come back with the first one's identity and never be read.
  for (let n = 10; n < 40; n++) {
    write(n);
    if (n % 3 === 0) continue; // versions nobody asked for in between
    const s = cache.get();
    assert.ok(s.kind === "ok");
    assert.equal(s.snapshot.counters.tx_inserted, n);
  }
  const c = cache.counters();
  assert.equal(c.opens, c.parses, "one open per version read");
  cache.close();
});

Deno.test("a file that vanishes between stat and read is 'missing', and comes back when it does", () => {
  const f = fakeFile('{"tx_inserted": 1}');
  let vanish = true;
  const cache = createStatsCache({
    path: "p",
    maxBytes: 1 << 20,
    log: captureLogger(),
    probe: f.probe,
    read: (p, max) =>
      vanish ? { ok: false, failure: { kind: "missing", detail: "vanished" } } : f.read(p, max),
  });
  const s = cache.get();
  assert.ok(s.kind === "unavailable" && s.reason === "missing");
  vanish = false;
  f.write('{"tx_inserted": 2}');
  const t = cache.get();
  assert.ok(t.kind === "ok" && t.snapshot.counters.tx_inserted === 2);
});

Deno.test("a file replaced mid-read is read once more, and the new version is served", () => {
  const f = fakeFile('{"tx_inserted": 1}');
  let replacedOnce = false;
  const cache = createStatsCache({
    path: "p",
    maxBytes: 1 << 20,
    log: captureLogger(),
    probe: f.probe,
    read: (p, max) => {
      if (!replacedOnce) {
        replacedOnce = true;
        f.write('{"tx_inserted": 9}');
        return { ok: false, failure: { kind: "changed", detail: "modified while being read" } };
      }
      return f.read(p, max);
    },
  });
  const s = cache.get();
  assert.ok(s.kind === "ok" && s.snapshot.counters.tx_inserted === 9);
  assert.equal(cache.counters().opens, 2);
});

/** A cache over a fake file that parses at most one version per 250 ms of `clock.t`. */
function paced() {
  const f = fakeFile(fixtureText("2026-11-23T12:00:00Z"));
  const clock = { t: 0 };
  const cache = createStatsCache({
    path: "p",
    maxBytes: 1 << 20,
    log: captureLogger(),
    minParseIntervalMs: 250,
    mono: () => clock.t,
    ...f,
  });
  return { f, clock, cache };
}

Deno.test("a writer replacing the file as fast as it can gets one parse per interval", () => {
  const { f, clock, cache } = paced();
  assert.equal(cache.get().kind, "ok");
  const first = cache.get();
  // 2,000 new versions in one simulated second, one request after each.
  for (let i = 1; i <= 2000; i++) {
    f.write(fixtureText(`2026-11-23T12:00:0${Math.min(9, Math.floor(i / 250))}Z`));
    clock.t = i / 2;
    cache.get();
  }
  const c = cache.counters();
  assert.ok(c.parses <= 1 + 1000 / 250 + 1, `${c.parses} parses in 1 s`);
  assert.ok(c.deferred > 1900, `${c.deferred} deferred`);
  // Within the interval the cached version is served as it was.
  f.write(fixtureText("2026-11-23T12:00:59Z"));
  clock.t += 10;
  assert.equal(cache.get().version, cache.get().version);
  // Past it, the newest version is read.
  clock.t += 250;
  const last = cache.get();
  assert.ok(last.kind === "ok" && last.snapshot.sampledAt === "2026-11-23T12:00:59Z");
  assert.notEqual(last, first);
});

Deno.test("within the parse interval, a file that is gone is still reported at once", () => {
  const { f, cache } = paced();
  assert.equal(cache.get().kind, "ok");
  f.write(undefined);
  const s = cache.get();
  assert.ok(s.kind === "unavailable" && s.reason === "missing");
});
