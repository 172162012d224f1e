import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type ProbeResult, readRegularFile, type ReadResult } from "../src/base/safe_read.ts";
import { createStatsCache, RACY_MS } from "../src/inputs/stats_cache.ts";
import { captureLogger, fixtureText, ignoredWhileMutating, isoSec, tempDir } from "./_helpers.ts";
import { PARSE_BUDGET } from "../src/app/runtime.ts";

/** An in-memory file the cache reads through injected probe/read functions. */
function fakeFile(initial: string | undefined) {
  let content = initial, ino = 1;
  const io = { probes: 0, reads: 0, mtimeMs: 0 };
  const identity = () => ({
    dev: 1,
    ino,
    size: content?.length ?? 0,
    mtimeMs: io.mtimeMs,
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
  assert.match(log.lines[0]!, /tx_inserted: expected a non-negative integer/);
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

Deno.test("versions renamed into place within one mtime tick, all the same size, are each read", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  const cache = createStatsCache({ path, maxBytes: 1 << 20, log: captureLogger() });
  const write = (n: number) => {
    Deno.writeTextFileSync(`${path}.tmp`, `{"tx_inserted": ${n}}`);
    Deno.renameSync(`${path}.tmp`, path);
  };
  // Same size, same mtime tick: only the inode tells them apart (and the racy pin keeps a
  // freed inode from coming back with a cached identity: the tests below).
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

/** A cache over a real file that records the descriptors its reads return. */
function pinWatch(path: string, wallOffset: { ms: number }) {
  const fds: number[] = [], timers: (() => void)[] = [];
  const cache = createStatsCache({
    path,
    maxBytes: 1 << 20,
    log: captureLogger(),
    wall: () => Date.now() + wallOffset.ms,
    later: (fn, ms) => {
      assert.ok(ms > RACY_MS, `released ${ms} ms after, not before the racy window`);
      timers.push(fn);
    },
    read: (p, max, o) => {
      const r = readRegularFile(p, max, o);
      if (r.ok && r.fd !== undefined) fds.push(r.fd);
      return r;
    },
  });
  const open = (fd: number) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  };
  return { cache, fds, timers, open };
}

Deno.test("a version older than the racy window is not held open: freeing it is the writer's work", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  Deno.writeTextFileSync(path, '{"tx_inserted": 1}');
  const old = new Date(Date.now() - RACY_MS - 1000);
  Deno.utimeSync(path, old, old);
  const w = pinWatch(path, { ms: 0 });
  assert.equal(w.cache.get().kind, "ok");
  assert.equal(w.fds.length, 1);
  assert.equal(w.open(w.fds[0]!), false, "closed as soon as it was read");
  assert.equal(w.timers.length, 0);
});

Deno.test("a racy version is held while racy, released once the window passed if still in place", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  Deno.writeTextFileSync(path, '{"tx_inserted": 1}');
  const offset = { ms: 0 };
  const w = pinWatch(path, offset);
  assert.equal(w.cache.get().kind, "ok");
  const pin = w.fds[0]!;
  assert.equal(w.open(pin), true, "a version written just now is held");
  assert.equal(fs.fstatSync(pin).ino, Deno.lstatSync(path).ino);
  // The timer comes early by the wall clock (or the clock went back): held, asked again later.
  offset.ms = -1000;
  w.timers.shift()!();
  assert.equal(w.open(pin), true);
  assert.equal(w.timers.length, 1);
  offset.ms = RACY_MS + 1;
  w.timers.shift()!();
  assert.equal(w.open(pin), false, "released: any inode reused from now on is stamped later");
  // Still cached: the same version is served with no new read.
  assert.equal(w.cache.get().kind, "ok");
  assert.equal(w.fds.length, 1);
});

Deno.test("a racy version replaced before its window passed stays held until the next version is read", () => {
  using t = tempDir();
  const path = t.path("stats.json");
  Deno.writeTextFileSync(path, '{"tx_inserted": 1}');
  const offset = { ms: 0 };
  const w = pinWatch(path, offset);
  w.cache.get();
  const pin = w.fds[0]!;
  Deno.writeTextFileSync(`${path}.tmp`, '{"tx_inserted": 2}');
  Deno.renameSync(`${path}.tmp`, path);
  offset.ms = RACY_MS + 1;
  w.timers.shift()!();
  assert.equal(w.open(pin), true, "its inode is not freed while its identity is cached");
  assert.equal(w.timers.length, 0);
  const s = w.cache.get();
  assert.ok(s.kind === "ok");
  assert.equal(s.snapshot.counters.tx_inserted, 2);
  w.cache.close();
});

Deno.test("racy versions as fast as they come: one release timer at most, one file held", async () => {
  using t = tempDir();
  const path = t.path("stats.json");
  const w = pinWatch(path, { ms: 0 });
  for (let n = 0; n < 200; n++) {
    Deno.writeTextFileSync(`${path}.tmp`, `{"tx_inserted": ${n}}`);
    Deno.renameSync(`${path}.tmp`, path);
    const s = w.cache.get();
    assert.ok(s.kind === "ok" && s.snapshot.counters.tx_inserted === n);
  }
  assert.equal(w.timers.length, 1);
  // Every earlier version's file is closed once the next is read (off the event loop: the
  // closes land a few turns later; waited for, up to 5 s).
  const heldNow = () => new Set(w.fds.filter((fd) => w.open(fd))).size;
  const until = performance.now() + 5000;
  while (heldNow() > 1 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.equal(heldNow(), 1, "only the cached version's file");
  w.cache.close();
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

/** A cache over a fake file with the service's parse budget, on the clock `clock.t`. */
function paced() {
  const f = fakeFile(fixtureText("2026-11-23T12:00:00Z"));
  const clock = { t: 0 };
  const cache = createStatsCache({
    path: "p",
    maxBytes: 1 << 20,
    log: captureLogger(),
    parseBudget: PARSE_BUDGET,
    mono: () => clock.t,
    ...f,
  });
  return { f, clock, cache };
}

Deno.test("write, then read: 50 new small versions in a row, no pause, each read sees its own", () => {
  const { f, cache } = paced();
  for (let i = 0; i < 50; i++) {
    const stamp = isoSec(Date.parse("2026-11-23T12:00:00Z") + i * 1000);
    f.write(fixtureText(stamp));
    const s = cache.get();
    assert.ok(s.kind === "ok" && s.snapshot.sampledAt === stamp, `version ${i}`);
  }
  assert.equal(cache.counters().deferred, 0);
});

Deno.test("a writer replacing a 256 KiB file as fast as it can gets 1 MiB of parsing a second", () => {
  const { f, clock, cache } = paced();
  // Padding after the object keeps every version 256 KiB whatever its stamp.
  const version = (i: number) => {
    const text = fixtureText(isoSec(Date.parse("2026-11-23T12:00:00Z") + i * 1000));
    return text + " ".repeat(256 * 1024 - text.length);
  };
  f.write(version(0));
  assert.equal(cache.get().kind, "ok");
  // 2,000 new versions over 10 simulated seconds, one request after each.
  for (let i = 1; i <= 2000; i++) {
    f.write(version(i));
    clock.t = i * 5;
    cache.get();
  }
  const c = cache.counters();
  // The burst (4 versions) and then 4 a second: 1 MiB a second, whatever the rate of versions.
  assert.ok(c.parses <= 1 + 4 + 4 * 10, `${c.parses} parses in 10 s`);
  assert.ok(c.parses >= 4 * 10 - 1, `${c.parses} parses in 10 s`);
  assert.ok(c.deferred > 1900, `${c.deferred} deferred`);
  // Past the budget the cached version is served as it was; once earned, the newest is read.
  f.write(fixtureText("2026-11-23T12:00:59Z"));
  assert.equal(cache.get().version, cache.get().version);
  clock.t += 1000;
  const last = cache.get();
  assert.ok(last.kind === "ok" && last.snapshot.sampledAt === "2026-11-23T12:00:59Z");
});

Deno.test("past the parse budget, a file that is gone is still reported at once", () => {
  const { f, cache } = paced();
  assert.equal(cache.get().kind, "ok");
  f.write(undefined);
  const s = cache.get();
  assert.ok(s.kind === "unavailable" && s.reason === "missing");
});

import { startService } from "./_service.ts";
import { getJson } from "./_service.ts";
import { writeAtomic } from "../tools/simulator.ts";
import { DEFAULTS } from "../src/app/config.ts";

// The service tests below run the whole service: under `deno task mutate` it would run an
// instrumented module without the grant it needs, and they are ignored there only.
Deno.test(ignoredWhileMutating({
  name: "the service, write then read: 50 versions in a row, no pause, every endpoint sees its own",
  fn: async () => {
    using dir = tempDir();
    const statsPath = dir.path("s.json");
    writeAtomic(statsPath, fixtureText(isoSec(Date.now())));
    const svc = await startService(["--port", "0", "--stats", statsPath, "--db", dir.path("m.db")]);
    try {
      for (let i = 0; i < 50; i++) {
        const doc = JSON.parse(fixtureText(isoSec(Date.now())));
        doc.tx_inserted = 1000 + i;
        writeAtomic(statsPath, JSON.stringify(doc));
        const ws = await getJson(`${svc.base}/api/perf/write-sources`);
        assert.equal(ws.body.sources.tx_inserted, 1000 + i, `version ${i}`);
      }
    } finally {
      await svc.stop();
    }
  },
}));

/** A writer replacing a file of `bytes` as fast as it can, healthz probed 200 times beside it. */
function hostileWriter(bytes: number) {
  return async () => {
    using dir = tempDir();
    const statsPath = dir.path("s.json");
    const writer = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        new URL("./_hostile_writer.ts", import.meta.url).pathname,
        statsPath,
        String(bytes),
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const out = writer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await out.read()).value ?? "", /writing/);
    const svc = await startService(["--port", "0", "--stats", statsPath, "--db", dir.path("m.db")]);
    try {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const { res, body } = await getJson(`${svc.base}/api/healthz`);
        times.push(performance.now() - t0);
        assert.equal(res.status, 200);
        assert.notEqual(body.ingest.statsFile, "missing");
      }
      times.sort((a, b) => a - b);
      assert.ok(times.at(-1)! < 1000, `slowest healthz ${times.at(-1)!.toFixed(0)} ms`);
      const m = await (await fetch(`${svc.base}/metrics`)).text();
      const parses = Number(/^corescope_perf_stats_file_parses_total (\d+)$/m.exec(m)?.[1]);
      if (bytes > DEFAULTS.maxStatsBytes) assert.equal(parses, 0, "over the limit: never parsed");
      console.log(
        `${bytes} B versions: healthz p50 ${times[100]!.toFixed(1)} ms, max ${
          times.at(-1)!.toFixed(1)
        } ms, ${parses} parses`,
      );
    } finally {
      await writer.stdin.close();
      const rest = (await out.read()).value ?? "";
      await writer.status;
      console.log(rest.trim());
      await svc.stop();
    }
  };
}

Deno.test(ignoredWhileMutating({
  name: "a writer replacing a 256 KiB stats file as fast as it can: healthz within 1 s, every time",
  fn: hostileWriter(DEFAULTS.maxStatsBytes),
}));
Deno.test(ignoredWhileMutating({
  name:
    "a writer replacing a 512 KiB stats file as fast as it can: never parsed, healthz within 1 s",
  fn: hostileWriter(2 * DEFAULTS.maxStatsBytes),
}));
