/**
 * The running server under load, many connections, a stats writer at 100 Hz, a checkpointing
 * ingestor, and SIGTERM mid-load. Durations are short here (CI); `deno task soak` runs the
 * long versions and prints their figures.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ROUTES } from "../src/http/routes.ts";
import { DEFAULTS } from "../src/app/config.ts";
import { writeAtomic } from "../tools/simulator.ts";
import { fixture, serviceArgs, tempDir, until } from "./_helpers.ts";
import { hammer, procFigures } from "./_load.ts";
import { getJson, startService } from "./_service.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const LOAD_MS = Number(Deno.env.get("LOAD_SECONDS") ?? 2) * 1000;
/** Every GET route that answers JSON or Prometheus text (not the dashboard and its assets). */
const GETS = Object.entries(ROUTES)
  .filter(([p, m]) => m.includes("GET") && p !== "/" && !p.startsWith("/dashboard."))
  .map(([p]) => p);

/** A writer replacing the stats file `hz` times a second; each version has a unique stamp. */
function statsWriter(path: string, hz: number) {
  const versions = new Map<string, number>(); // sampledAt -> tx_inserted
  let n = 0;
  const write = () => {
    n++;
    const doc = fixture(new Date().toISOString());
    const stamp = new Date(Date.now() + n % 1000).toISOString(); // unique within the run
    doc.sampledAt = stamp;
    (doc.procIO as Record<string, unknown>).sampledAt = stamp;
    doc.tx_inserted = n;
    versions.set(stamp, n);
    writeAtomic(path, JSON.stringify(doc));
  };
  write();
  const timer = setInterval(write, 1000 / hz);
  return { versions, stop: () => clearInterval(timer), count: () => n };
}

Deno.test("load: 64 clients on every endpoint while the stats file is replaced 100 times a second", async () => {
  using dir = tempDir();
  const statsPath = dir.path("s.json");
  const writer = statsWriter(statsPath, 100);
  const svc = await startService(serviceArgs(dir));
  try {
    const r = await hammer({
      base: svc.base,
      paths: GETS,
      clients: 64,
      durationMs: LOAD_MS,
      check(path, status, text) {
        if (status >= 500) return `status ${status}`;
        if (path === "/metrics") return text.endsWith("\n") ? undefined : "metrics not terminated";
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          return `torn JSON: ${text.slice(0, 80)}`;
        }
        if (path === "/api/perf/write-sources" && body.sampleAt) {
          const tx = writer.versions.get(body.sampleAt);
          if (tx === undefined) return `sampleAt ${body.sampleAt} was never written`;
          if (body.sources.tx_inserted !== tx) {
            return `mixed versions: ${body.sampleAt} with tx ${body.sources.tx_inserted}`;
          }
        }
        return undefined;
      },
    });
    writer.stop();
    const total = r.requests;
    console.log(
      `load: ${total} requests in ${LOAD_MS / 1000} s (${
        Math.round(total / (LOAD_MS / 1000))
      }/s), ` +
        `${writer.count()} stats versions, statuses ${JSON.stringify(r.byStatus)}`,
    );
    assert.deepEqual(r.badBodies, []);
    assert.equal(r.transportErrors, 0);
    for (const status of Object.keys(r.byStatus)) assert.ok(Number(status) < 500, `saw ${status}`);
    assert.ok(total > 1000, `only ${total} requests`);
    const hz = await getJson(`${svc.base}/api/healthz`);
    assert.equal(hz.res.status, 200, "still running");
  } finally {
    writer.stop();
    await svc.stop();
  }
});

Deno.test("2,000 idle connections and slow clients: healthz still answers, every time, while they stay open", async () => {
  using dir = tempDir();
  const svc = await startService(serviceArgs(dir));
  const port = Number(svc.base.split(":").at(-1));
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2000; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    const enc = new TextEncoder();
    // Slow clients: a request line, then a header byte now and then, never finished.
    const slow = conns.slice(0, 50);
    for (const c of slow) {
      await c.write(enc.encode("GET /api/healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    }
    const drip = setInterval(() => {
      for (const c of slow) c.write(enc.encode("a")).catch(() => {});
    }, 50);
    try {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const { res } = await getJson(`${svc.base}/api/healthz`);
        times.push(performance.now() - t0);
        assert.equal(res.status, 200);
      }
      times.sort((a, b) => a - b);
      console.log(
        `healthz with 2000 idle connections: median ${times[10]!.toFixed(2)} ms, max ${
          times[19]!.toFixed(2)
        } ms`,
      );
      // How fast is deno task bench's to say; here: every one answered, none waited on the
      // idle or dripping connections (each came back, in order, while they stayed open).
      assert.equal(times.length, 20);
    } finally {
      clearInterval(drip);
    }
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
    await svc.stop();
  }
});

Deno.test("SIGTERM during load: in-flight requests complete, exit 0 within 2 s, no error logged", async () => {
  using dir = tempDir();
  const statsPath = dir.path("s.json");
  const writer = statsWriter(statsPath, 20);
  const svc = await startService(serviceArgs(dir));
  try {
    const stop = new AbortController();
    const load = hammer({
      base: svc.base,
      paths: GETS,
      clients: 32,
      durationMs: 10_000,
      signal: stop.signal,
      check: (path, status, text) => {
        if (status >= 500) return `status ${status}`;
        if (path !== "/metrics" && status !== 204) {
          try {
            JSON.parse(text);
          } catch {
            return "truncated body";
          }
        }
        return undefined;
      },
    });
    await new Promise((r) => setTimeout(r, 1000));
    const { code, ms } = await svc.stop("SIGTERM");
    stop.abort();
    const r = await load;
    assert.equal(code, 0);
    assert.ok(ms < 2000, `${ms} ms`);
    assert.deepEqual(r.badBodies, [], "every response that started was completed whole");
    assert.ok(r.requests > 100);
    assert.doesNotMatch(svc.stderr(), /ERROR/);
  } finally {
    writer.stop();
  }
});

Deno.test("the ingestor's wal_checkpoint(TRUNCATE) succeeds while the service is under load", async () => {
  using dir = tempDir();
  const dbPath = dir.path("m.db");
  const db = new DatabaseSync(dbPath);
  // As CoreScope's ingestor does: a busy timeout, so a checkpoint waits out a brief reader.
  // The promise under test: the service never holds a read transaction between statements
  // (for a WAL database it never opens SQLite at all), so TRUNCATE always completes.
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;");
  db.exec("CREATE TABLE t (b BLOB);");
  const svc = await startService(["--port", "0", "--stats", dir.path("s.json"), "--db", dbPath]);
  try {
    const load = hammer({
      base: svc.base,
      paths: ["/api/perf/sqlite", "/metrics"],
      clients: 16,
      durationMs: 2000,
      check: (_p, status) => (status === 200 ? undefined : `status ${status}`),
    });
    const results: number[] = [];
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      db.exec("INSERT INTO t VALUES (randomblob(20000))");
      const r = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number };
      results.push(r.busy);
      assert.equal(Deno.statSync(`${dbPath}-wal`).size, 0, "the WAL shrinks to 0");
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await load;
    assert.deepEqual(r.badBodies, []);
    assert.ok(results.length > 10);
    assert.ok(results.every((b) => b === 0), `busy results: ${results.join(",")}`);
  } finally {
    await svc.stop();
    db.close();
  }
});

// The soak proper (a minute or more, `deno task soak`) runs only when asked; the default
// suite runs the same test short, where V8 is still sizing its heap: descriptors must stay
// flat and every answer be 200, and RSS is only bounded, not judged for growth.
const SOAK = Deno.env.get("SOAK_SECONDS") !== undefined;

Deno.test(
  SOAK
    ? "soak: after warm-up, RSS and open descriptors stay flat at a steady rate"
    : "soak (short; deno task soak for the long run): descriptors flat, all 200, RSS bounded",
  async () => {
    using dir = tempDir();
    const statsPath = dir.path("s.json");
    const writer = statsWriter(statsPath, 1);
    const svc = await startService(serviceArgs(dir));
    try {
      // V8 sizes its heap in steps during the first ~35 s under load: measure after that.
      const warmup = Number(Deno.env.get("SOAK_WARMUP_SECONDS") ?? (SOAK ? 40 : 1));
      const seconds = Number(Deno.env.get("SOAK_SECONDS") ?? 2);
      const every = SOAK ? Math.max(5, Math.round(seconds / 20)) : 1;
      const load = hammer({
        base: svc.base,
        paths: GETS,
        clients: 8,
        durationMs: (warmup + seconds) * 1000,
        ratePerSec: 400,
      });
      await new Promise((r) => setTimeout(r, warmup * 1000));
      // RSS moves with garbage collection: compare the median of the first half of the
      // measured window with the median of the second half, not single samples.
      const rss: number[] = [];
      const fdsSeen = new Set<number>();
      for (let t = 0; t <= seconds; t += every) {
        if (t > 0) await new Promise((r) => setTimeout(r, every * 1000));
        const p = await procFigures(svc.proc.pid);
        rss.push(p.rss / 1048576);
        fdsSeen.add(p.fds);
        console.log(`soak t=${warmup + t}s RSS ${(p.rss / 1048576).toFixed(1)} MiB fds ${p.fds}`);
      }
      const r = await load;
      const half = Math.ceil(rss.length / 2);
      const early = median(rss.slice(0, half)), late = median(rss.slice(rss.length - half));
      const growMiB = late - early;
      console.log(
        `soak: ${r.requests} requests in ${
          warmup + seconds
        } s (400/s); after ${warmup} s warm-up ` +
          `median RSS ${early.toFixed(1)} -> ${late.toFixed(1)} MiB (${growMiB >= 0 ? "+" : ""}${
            growMiB.toFixed(2)
          }), range ${Math.min(...rss).toFixed(1)}-${Math.max(...rss).toFixed(1)}; fds ${
            [...fdsSeen].join(",")
          }`,
      );
      assert.deepEqual(Object.keys(r.byStatus), ["200"]);
      if (SOAK) assert.ok(growMiB < 5, `RSS grew ${growMiB.toFixed(2)} MiB`);
      else assert.ok(Math.max(...rss) < 200, `RSS ${Math.max(...rss).toFixed(1)} MiB`);
      assert.ok(Math.max(...fdsSeen) - Math.min(...fdsSeen) <= 2, `fds ${[...fdsSeen]}`);
    } finally {
      writer.stop();
      await svc.stop();
    }
  },
);

/**
 * TCP ports the process `pid` listens on (its socket inodes matched in /proc/net/tcp{,6}),
 * read through `sh`: Deno itself reads /proc only with --allow-all.
 */
async function listeningPorts(pid: number): Promise<number[]> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'ls -l "/proc/$0/fd"; echo ==; cat /proc/net/tcp /proc/net/tcp6', String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const [fds = "", tables = ""] = new TextDecoder().decode(out.stdout).split("\n==\n");
  const inodes = new Set([...fds.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1]!));
  const ports: number[] = [];
  for (const line of tables.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9]!)) continue;
    ports.push(parseInt(f[1]!.split(":")[1]!, 16));
  }
  return ports;
}

Deno.test("SIGUSR1: the debugger Deno opens for it is closed again at once, and logged", async () => {
  using dir = tempDir();
  const svc = await startService(serviceArgs(dir));
  try {
    const own = Number(svc.base.split(":").at(-1));
    assert.deepEqual(await listeningPorts(svc.proc.pid), [own]);
    svc.proc.kill("SIGUSR1");
    // The service says what it found once its last close attempt ran: wait for that.
    await until(
      () => /SIGUSR1: the debugger is closed/.test(svc.stderr()),
      "the SIGUSR1 outcome",
    );
    assert.match(svc.stderr(), /SIGUSR1: closing the debugger/);
    assert.deepEqual(await listeningPorts(svc.proc.pid), [own], "no debugger port left open");
    assert.equal((await getJson(`${svc.base}/api/healthz`)).res.status, 200);
  } finally {
    await svc.stop();
  }
});

Deno.test("SIGHUP is logged and ignored: the service keeps serving", async () => {
  using dir = tempDir();
  const svc = await startService(serviceArgs(dir));
  try {
    svc.proc.kill("SIGHUP");
    await until(() => /SIGHUP ignored/.test(svc.stderr()), "the SIGHUP log line");
    assert.equal((await getJson(`${svc.base}/api/healthz`)).res.status, 200);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

Deno.test("out of file descriptors: half-sent connections are shed, the process lives on and serves again", async () => {
  using dir = tempDir();
  // As under a unit's LimitNOFILE, but small: a few dozen descriptors for the runtime itself.
  const svc = await startService(serviceArgs(dir), {
    wrap: (argv) => ["sh", "-c", 'ulimit -n 96 && exec "$@"', "sh", ...argv],
  });
  const port = Number(svc.base.split(":").at(-1));
  const conns: Deno.Conn[] = [];
  try {
    const enc = new TextEncoder();
    let refused = 0;
    for (let i = 0; i < 150; i++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(c);
        await c.write(enc.encode("GET /api/healthz HTTP/1.1\r\nHost: x\r\n"));
      } catch {
        refused++; // the listener ran out of descriptors, as intended
      }
    }
    // Connects can all succeed into the kernel's backlog; the service meets EMFILE when it
    // accepts them, a moment later: wait for it to say so.
    const limitBy = Date.now() + 5000;
    while (!/Too many open files/.test(svc.stderr()) && Date.now() < limitBy) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(svc.stderr(), /Too many open files/, `the limit was reached (${refused} refused)`);
    // The attacker keeps every connection open: the service must shed them itself.
    let ok = false;
    const deadline = Date.now() + 5000;
    while (!ok && Date.now() < deadline) {
      try {
        const res = await fetch(`${svc.base}/api/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        ok = res.status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(
      ok,
      `healthz while the half-sent connections are held; stderr: ${svc.stderr().slice(-500)}`,
    );
    // The accepted half-sent connections were closed by the service (read gives EOF).
    let shed = 0;
    await Promise.all(conns.map(async (c) => {
      const t = setTimeout(() => c.close(), 300);
      try {
        while ((await c.read(new Uint8Array(512))) !== null) { /* a 4xx, if any */ }
        shed++;
      } catch { /* still open: our timer closed it (never accepted, or accepted later) */ }
      clearTimeout(t);
    }));
    console.log(
      `EMFILE: ${refused} refused, ${shed} of ${conns.length} half-sent connections shed`,
    );
    assert.ok(shed > 0, "the service closed half-sent connections it held");
    assert.doesNotMatch(svc.stderr(), /Uncaught/);
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    assert.equal((await svc.stop()).code, 0, "still alive, stops cleanly");
  }
});

/** A stats document whose `backfillUpdates` holds `n` short names (the costliest shape to parse). */
function namesDoc(n: number): string {
  const names: Record<string, number> = {};
  for (let i = 0; i < n; i++) names[i.toString(36)] = 0;
  const doc = fixture(new Date().toISOString());
  doc.backfillUpdates = names;
  return JSON.stringify(doc);
}

/** Names that fill `bytes` of stats file, found by growing the count. */
function namesUnder(bytes: number): number {
  let n = 1000;
  while (namesDoc(n + 1000).length < bytes) n += 1000;
  return n;
}

for (
  const { limit, names, probeMs } of [
    { limit: 0, names: 0, probeMs: 2000 }, // the default limit, filled to the brim
    { limit: 1048576, names: 110_000, probeMs: 1500 }, // the largest limit, the attack's file
  ]
) {
  const label = limit === 0 ? "the default maxStatsBytes" : `maxStatsBytes ${limit}`;
  Deno.test(`a stats file full of names at ${label}, rewritten at 2 Hz: memory and healthz stay bounded`, async () => {
    using dir = tempDir();
    const statsPath = dir.path("s.json");
    const n = names || namesUnder(DEFAULTS.maxStatsBytes);
    const write = () => writeAtomic(statsPath, namesDoc(n));
    write();
    assert.ok(
      Deno.statSync(statsPath).size <= (limit || DEFAULTS.maxStatsBytes),
      "within the limit",
    );
    const timer = setInterval(write, 500);
    const args = limit ? [...serviceArgs(dir), "--config", dir.path("c.json")] : serviceArgs(dir);
    if (limit) Deno.writeTextFileSync(dir.path("c.json"), JSON.stringify({ maxStatsBytes: limit }));
    const svc = await startService(args);
    try {
      const times: number[] = [];
      const until = Date.now() + probeMs;
      while (Date.now() < until) {
        const t0 = performance.now();
        const { res } = await getJson(`${svc.base}/api/healthz`);
        times.push(performance.now() - t0);
        assert.equal(res.status, 200);
        await new Promise((r) => setTimeout(r, 5));
      }
      times.sort((a, b) => a - b);
      const p99 = times[Math.floor(times.length * 0.99)]!;
      const t0 = performance.now();
      const history = await getJson(`${svc.base}/api/perf/history`);
      const historyMs = performance.now() - t0;
      const ws = await getJson(`${svc.base}/api/perf/write-sources`);
      const { rss } = await procFigures(svc.proc.pid);
      console.log(
        `${n} names at 2 Hz (${label}): healthz p99 ${p99.toFixed(1)} ms over ${times.length} ` +
          `requests, history ${historyMs.toFixed(1)} ms (${history.text.length} bytes), RSS ${
            (rss / 1048576).toFixed(1)
          } MiB`,
      );
      assert.deepEqual(ws.body.truncated, [`backfillUpdates: kept 64 of ${n} entries`]);
      assert.equal(Object.keys(ws.body.sources).length, 9 + 64);
      assert.equal(history.res.status, 200);
      assert.ok(history.text.length < 2_000_000, `history body ${history.text.length} bytes`);
      assert.ok(rss < 150 * 1048576, `RSS ${(rss / 1048576).toFixed(1)} MiB`);
      // A bound, not a speed target (that is the benchmark's): every probe answered, none hung.
      assert.ok(times.at(-1)! < 1000, `slowest healthz ${times.at(-1)!.toFixed(1)} ms`);
      assert.equal(
        svc.stderr().match(/entries over the limit left out/g)?.length,
        1,
        "logged once, not per version",
      );
      if (!limit) {
        // The attack's file (110,000 names, 940 KB) is over the default limit: refused unread.
        clearInterval(timer);
        writeAtomic(statsPath, namesDoc(110_000));
        const hz = await getJson(`${svc.base}/api/healthz`);
        assert.equal(hz.body.ingest.statsFile, "invalid");
        assert.equal(hz.body.ingest.statsFileReason, "too_large");
      }
    } finally {
      clearInterval(timer);
      await svc.stop();
    }
  });
}

Deno.test("oversized request heads over the wire: Deno's own 400 past about 64 KiB, twice that too", async () => {
  using dir = tempDir();
  const svc = await startService(serviceArgs(dir));
  const port = Number(svc.base.split(":").at(-1));
  const statusLine = async (kb: number) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const head = `GET /api/healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${
        "a".repeat(kb * 1024)
      }\r\n\r\n`;
      await c.write(new TextEncoder().encode(head)).catch(() => {});
      const buf = new Uint8Array(256);
      const n = await c.read(buf).catch(() => null);
      return n === null ? "closed" : new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0];
    } finally {
      c.close();
    }
  };
  try {
    assert.equal(await statusLine(20), "HTTP/1.1 200 OK", "20 KiB is within Deno's bound");
    assert.equal(await statusLine(64), "HTTP/1.1 400 Bad Request");
    assert.equal(await statusLine(128), "HTTP/1.1 400 Bad Request", "twice the bound");
    assert.equal((await getJson(`${svc.base}/api/healthz`)).res.status, 200, "still serving");
  } finally {
    await svc.stop();
  }
});

Deno.test("the costliest masking shapes at the size limit: listening, healthz and SIGTERM stay bounded", async () => {
  using t = tempDir();
  // Each field about half the default 256 KiB limit: the shapes that were quadratic to mask
  // (17 s per healthz, 19.6 s to start, 28 s to stop).
  const stats = t.path("s.json");
  const hostile = (k: number) =>
    JSON.stringify({
      sampledAt: "@" + "=a:".repeat(42_000 + k),
      source_statuses: [{ name: "n", broker: "a://u:p_".repeat(15_000 + k), connected: true }],
    });
  writeAtomic(stats, hostile(0));
  assert.ok(Deno.statSync(stats).size < DEFAULTS.maxStatsBytes);
  const t0 = performance.now();
  const svc = await startService(serviceArgs(t));
  const startMs = performance.now() - t0;
  try {
    // Deno's own start is part of it; the old code needed 19.6 s here.
    assert.ok(startMs < 5000, `listening after ${startMs.toFixed(0)} ms`);
    // New versions while healthz is probed one at a time: every probe within 1 s.
    let worst = 0;
    for (let k = 1; k <= 20; k++) {
      writeAtomic(stats, hostile(k));
      const p0 = performance.now();
      const { res, body } = await getJson(`${svc.base}/api/healthz`);
      worst = Math.max(worst, performance.now() - p0);
      assert.equal(res.status, 200);
      assert.equal(body.ingest.statsFile, "stale", "a stamp that does not parse is not fresh");
    }
    assert.ok(worst < 1000, `slowest healthz ${worst.toFixed(0)} ms`);
    const { body } = await getJson(`${svc.base}/api/mqtt/status`);
    assert.ok(JSON.stringify(body).length < 8192, "the broker is cut to 512 characters");
  } finally {
    const { code, ms } = await svc.stop();
    assert.equal(code, 0);
    assert.ok(ms < 2000, `SIGTERM took ${ms.toFixed(0)} ms`);
  }
});

Deno.test("bound beyond loopback for a remote Prometheus: a warning names what it exposes; allowedHosts decides", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(dir.path("c.json"), JSON.stringify({ allowedHosts: ["perf.example"] }));
  const svc = await startService([
    "--config",
    dir.path("c.json"),
    "--host",
    "0.0.0.0",
    ...serviceArgs(dir),
  ]);
  try {
    await until(() => /beyond this machine/.test(svc.stderr()), "the startup warning");
    assert.match(
      svc.stderr(),
      /WARN startup: listening on 0\.0\.0\.0, beyond this machine: .*broker host and user names/,
    );
    assert.match(svc.stderr(), /allowedHosts="perf\.example"/);
    const port = Number(svc.base.split(":").at(-1));
    const status = async (host: string) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await c.write(
          new TextEncoder().encode(
            `GET /metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
          ),
        );
        const buf = new Uint8Array(64);
        const n = await c.read(buf);
        return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
      } finally {
        c.close();
      }
    };
    assert.equal(await status(`perf.example:${port}`), "HTTP/1.1 200 OK");
    assert.equal(await status(`localhost:${port}`), "HTTP/1.1 421 Misdirected Request");
  } finally {
    await svc.stop();
  }
  // On loopback, no such warning.
  const local = await startService(serviceArgs(dir));
  await until(() => /INFO startup: corescope-perf/.test(local.stderr()), "the startup line");
  await local.stop();
  assert.doesNotMatch(local.stderr(), /beyond this machine/);
});
