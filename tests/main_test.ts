/**
 * End to end: main.ts as a subprocess under exactly the permission flags it prints, on
 * port 0, against a temp stats file and a live WAL database, over real HTTP.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fixtureText, isoSec, serviceArgs, tempDir } from "./_helpers.ts";
import { freePort } from "./_env.ts";
import {
  flagsFor,
  getJson,
  MAIN,
  ROOT,
  run,
  spawnService,
  START_ENV,
  startService,
  V8_FLAGS,
} from "./_service.ts";

Deno.test("main.ts end to end under its printed permissions", async (t) => {
  using dir = tempDir();
  const statsPath = dir.path("stats.json");
  const dbPath = dir.path("meshcore.db");
  const ingestorDb = new DatabaseSync(dbPath); // the "ingestor", holding the WAL open
  ingestorDb.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;");
  ingestorDb.exec("CREATE TABLE transmissions (id INTEGER PRIMARY KEY, raw BLOB)");
  ingestorDb.exec("INSERT INTO transmissions (raw) VALUES (randomblob(100000))");
  // 3 s old: fresh now, stale about 2 s from now without the file changing.
  const stampMs = Date.now() - 3000;
  Deno.writeTextFileSync(statsPath, fixtureText(isoSec(stampMs)));
  const svc = await startService(["--port", "0", "--stats", statsPath, "--db", dbPath]);
  try {
    await t.step("perf/io: rates, ioSource and the fresh ingestor sample", async () => {
      const { res, body } = await getJson(`${svc.base}/api/perf/io`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(res.headers.get("cache-control"), "no-store");
      for (
        const k of [
          "readBytesPerSec",
          "writeBytesPerSec",
          "cancelledWriteBytesPerSec",
          "syscallsRead",
          "syscallsWrite",
        ]
      ) {
        assert.equal(typeof body[k], "number", k);
        assert.ok(body[k] >= 0, k);
      }
      assert.equal(body.ioSource, "rusage", "no bind mount here: the fallback, and it says so");
      assert.equal(body.ingestor.writeBytesPerSec, 851968);
    });

    await t.step("perf/sqlite: real PRAGMA figures and WAL size", async () => {
      const { body } = await getJson(`${svc.base}/api/perf/sqlite`);
      assert.equal(body.error, undefined, body.error);
      assert.equal(body.pageSize, 4096);
      assert.ok(body.pageCount > 20);
      assert.equal(body.walSize, Deno.statSync(`${dbPath}-wal`).size);
      assert.ok(body.walSize > 0);
      assert.equal(typeof body.cacheHitRate, "number");
    });

    await t.step("write-sources, healthz (GET and HEAD), mqtt/status", async () => {
      const ws = await getJson(`${svc.base}/api/perf/write-sources`);
      assert.equal(ws.body.sources.tx_inserted, 1843201);
      assert.equal(ws.body.sampleAt, isoSec(stampMs));
      const hz = await getJson(`${svc.base}/api/healthz`);
      assert.equal(hz.res.status, 200);
      assert.equal(hz.body.ready, true);
      assert.deepEqual(Object.keys(hz.body.ingest_liveness), ["local", "regional"]);
      const head = await fetch(`${svc.base}/api/healthz`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
      const mq = await getJson(`${svc.base}/api/mqtt/status`);
      assert.equal(mq.body.sources[0].broker, "mqtt://ingest:****@127.0.0.1:1883");
      assert.ok(!mq.text.includes("s3cret") && !mq.text.includes("hunter2"));
    });

    await t.step("404 and 405 are JSON", async () => {
      const nf = await getJson(`${svc.base}/api/nope`);
      assert.equal(nf.res.status, 404);
      const na = await getJson(`${svc.base}/api/healthz`, { method: "DELETE" });
      assert.equal(na.res.status, 405);
    });

    await t.step("a stale sample drops out after 5 s with the file untouched", async () => {
      const mtime = Deno.statSync(statsPath).mtime?.getTime();
      const wait = stampMs + 5000 + 300 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const { body } = await getJson(`${svc.base}/api/perf/io`);
      assert.equal(body.ingestor, undefined);
      const ws = await getJson(`${svc.base}/api/perf/write-sources`);
      assert.equal(ws.body.stale, true);
      assert.equal(Deno.statSync(statsPath).mtime?.getTime(), mtime, "file untouched");
    });

    await t.step("malformed, then missing, then a symlink: bounded answers, 200", async () => {
      // One request at a time: every change must show on the very next request.
      Deno.writeTextFileSync(statsPath, '{"sampledAt": "mqtt://x:leaky@h:1" ,,,');
      let ws = await getJson(`${svc.base}/api/perf/write-sources`);
      assert.equal(ws.res.status, 200);
      assert.deepEqual([ws.body.sources, ws.body.sampleAt], [{}, ""]);
      Deno.removeSync(statsPath);
      ws = await getJson(`${svc.base}/api/perf/write-sources`);
      assert.deepEqual(ws.body.sources, {});
      const hz = await getJson(`${svc.base}/api/healthz`);
      assert.equal(hz.res.status, 200, "the ingestor's trouble is reported, not a 503");
      assert.equal(hz.body.ready, true);
      assert.equal("ingest_liveness" in hz.body, false);
      assert.equal(hz.body.ingest.statsFile, "missing");
      Deno.writeTextFileSync(dir.path("elsewhere.json"), fixtureText(isoSec(Date.now())));
      Deno.symlinkSync(dir.path("elsewhere.json"), statsPath);
      ws = await getJson(`${svc.base}/api/perf/write-sources`);
      assert.deepEqual(ws.body.sources, {}, "symlink refused");
    });

    await t.step("SIGTERM: exit 0 within 2 s; no secret in the logs", async () => {
      const { code, ms } = await svc.stop();
      assert.equal(code, 0);
      assert.ok(ms < 2000, `${ms} ms`);
      const err = svc.stderr();
      assert.ok(!err.includes("leaky") && !err.includes("s3cret"), err);
      assert.match(err, /symlink: refused/);
      assert.match(err, /does not exist/);
    });
  } finally {
    try {
      svc.proc.kill("SIGKILL");
    } catch { /* already gone */ }
    await svc.proc.status;
    ingestorDb.close();
  }
});

Deno.test("main.ts: --help and --version exit 0; bad flags and config exit 2 naming the key", async () => {
  const help = await run([MAIN, "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage:/);
  const version = await run(["--allow-read", MAIN, "--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^corescope-perf \d+\.\d+\.\d+\n$/);
  const badPort = await run(["--allow-read", "--allow-env", MAIN, "--port", "99999"]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /port: must be an integer/);
  const unknown = await run(["--allow-read", "--allow-env", MAIN, "--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--frobnicate/);
  using dir = tempDir();
  Deno.writeTextFileSync(dir.path("c.json"), '{"staleAfterMs": -1}');
  const badCfg = await run(["--allow-read", "--allow-env", MAIN, "--config", dir.path("c.json")]);
  assert.equal(badCfg.code, 2);
  assert.match(badCfg.stderr, /staleAfterMs/);
});

Deno.test("main.ts: SIGINT also stops cleanly", async () => {
  using dir = tempDir();
  const svc = await startService(serviceArgs(dir));
  assert.equal((await getJson(`${svc.base}/api/healthz`)).res.status, 200);
  const { code, ms } = await svc.stop("SIGINT");
  assert.equal(code, 0);
  assert.ok(ms < 2000);
});

Deno.test("main.ts wait-ready: exit 0 once the service is ready; port 0 is refused", async () => {
  using dir = tempDir();
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const args = ["--port", String(port), "--stats", dir.path("s.json"), "--db", dir.path("m.db")];
  const flags = (await run(["--allow-read", "--allow-env", MAIN, "permissions", ...args])).stdout
    .trim().split("\n");
  const waiting = run([...flags, MAIN, ...args, "wait-ready"]); // started before the service
  const svc = await startService(args);
  try {
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await svc.stop();
  }
  const zero = await run([
    "--allow-read",
    "--allow-env",
    "--allow-net=127.0.0.1",
    MAIN,
    "--port",
    "0",
    "wait-ready",
  ]);
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /fixed port/);
});

Deno.test("main.ts: a port in use, an unbindable host, a comma in a path exit 2 with the address or key, no stack trace", async () => {
  using dir = tempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const args = ["--port", String(port), "--stats", dir.path("s.json"), "--db", dir.path("m.db")];
    const flags = await flagsFor(args);
    const inUse = await run([...flags, MAIN, ...args]);
    assert.equal(inUse.code, 2, inUse.stderr);
    assert.match(inUse.stderr, new RegExp(`port: 127\\.0\\.0\\.1:${port} is already in use`));
    assert.doesNotMatch(inUse.stderr, /\bat \S+:\d+:\d+/, "no stack trace");
  } finally {
    taken.close();
  }
  const badHost = await run([
    "--allow-read",
    "--allow-env",
    "--allow-net",
    MAIN,
    "--host",
    "203.0.113.9",
    "--port",
    "0",
  ]);
  assert.equal(badHost.code, 2, badHost.stderr);
  assert.match(badHost.stderr, /host: cannot listen on 203\.0\.113\.9:0/);
  const comma = await run([
    "--allow-read",
    "--allow-env",
    MAIN,
    "permissions",
    "--db",
    "/tmp/a,b.db",
  ]);
  assert.equal(comma.code, 2);
  assert.match(comma.stderr, /dbPath: \/tmp\/a,b\.db: a path holding a comma cannot be granted/);
});

Deno.test("main.ts: one startup line after the listening line; --log-format json applies to it", async () => {
  using dir = tempDir();
  const svc = await startService([...serviceArgs(dir), "--log-format", "json"]);
  try {
    await getJson(`${svc.base}/api/healthz`);
    const startup = svc.stderr().split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .find((l) => l.event === "startup");
    assert.ok(startup, svc.stderr());
    assert.match(startup.msg, /^corescope-perf \d+\.\d+\.\d+$/);
    assert.equal(startup.stats, dir.path("s.json"));
    assert.equal(startup.db, dir.path("m.db"));
    assert.equal(startup.ioSource, "rusage");
    assert.equal(startup.staleAfterMs, 5000);
    assert.equal(startup.logFormat, "json");
  } finally {
    await svc.stop();
  }
});

Deno.test("main.ts check: names every problem and exits 1; exits 0 when all is well", async () => {
  using dir = tempDir();
  const port = String(freePort());
  const args = ["--stats", dir.path("s.json"), "--db", dir.path("m.db"), "--port", port];
  const flags = await flagsFor(args);
  const bad = await run([...flags, MAIN, "check", ...args]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /PROBLEM database: .*m\.db does not exist/);
  assert.match(bad.stdout, /PROBLEM stats file: .*s\.json does not exist/);
  Deno.mkdirSync(dir.path("s.json"));
  const dirStats = await run([...flags, MAIN, "check", ...args]);
  assert.match(dirStats.stdout, /PROBLEM stats file: .*is a directory, not a regular file/);
  Deno.removeSync(dir.path("s.json"));
  Deno.writeTextFileSync(dir.path("s.json"), fixtureText(isoSec(Date.now())));
  const db = new DatabaseSync(dir.path("m.db"));
  db.exec("CREATE TABLE t (x)");
  db.close();
  const good = await run([...flags, MAIN, "check", ...args]);
  assert.equal(good.code, 0, good.stdout);
  assert.match(good.stdout, /^ok +database: .*pages of 4096 bytes$/m);
  assert.match(good.stdout, /^WARN +I\/O counters: .*getrusage/m, "the fallback is a warning");
  assert.match(good.stdout, /^ok +listen: 127\.0\.0\.1:\d+ is free$/m);
});

/** `deno task start ARGS`, as an operator runs it (bash deploy/start.sh, from the root). */
const startSh = (args: string[]) =>
  new Deno.Command("bash", {
    args: ["deploy/start.sh", ...args],
    cwd: ROOT,
    env: START_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();

Deno.test("deno task start: --help and --version pass through; a bad flag exits 2", async () => {
  const sh = startSh;
  const dec = new TextDecoder();
  const help = await sh(["--help"]);
  assert.equal(help.code, 0);
  assert.match(dec.decode(help.stdout), /^corescope-perf: perf and health endpoints/);
  const version = await sh(["--version"]);
  assert.equal(version.code, 0);
  assert.match(dec.decode(version.stdout), /^corescope-perf \d+\.\d+\.\d+$/m);
  const bad = await sh(["--port", "nope"]);
  assert.equal(bad.code, 2);
  assert.match(dec.decode(bad.stderr), /port: must be an integer/);
});

Deno.test("deno task start serves under exactly the flags `main.ts permissions` prints, plus the V8 flags, paths with spaces kept whole", async () => {
  using dir = tempDir();
  Deno.mkdirSync(dir.path("a b"));
  Deno.writeTextFileSync(dir.path("a b/s 1.json"), fixtureText(isoSec(Date.now())));
  const args = ["--port", "0", "--stats", dir.path("a b/s 1.json"), "--db", dir.path("a b/m.db")];
  const svc = await spawnService("bash", ["deploy/start.sh", ...args], {
    cwd: ROOT,
    env: START_ENV,
  });
  try {
    // start.sh execs Deno, so the shell's pid is the service's. Deno reads /proc only with
    // --allow-all, so ask cat.
    const cmdline = await new Deno.Command("cat", { args: [`/proc/${svc.proc.pid}/cmdline`] })
      .output();
    const argv = new TextDecoder().decode(cmdline.stdout).split("\0").filter((a) => a !== "");
    const main = argv.findIndex((a) => a.endsWith("main.ts"));
    const flags = argv.slice(argv.indexOf("run") + 1, main);
    assert.deepEqual(flags.sort(), [...await flagsFor(args), ...V8_FLAGS].sort());
    assert.deepEqual(argv.slice(main + 1), args, "the arguments pass through");
    const hz = await (await fetch(`${svc.base}/api/healthz`)).json();
    assert.equal(hz.ingest.statsFile, "fresh", "the file under a path with spaces is read");
  } finally {
    await svc.stop();
  }
});

Deno.test("check under grants that disagree with the configuration: not granted, port in use", async () => {
  using dir = tempDir();
  const db = new DatabaseSync(dir.path("m.db"));
  db.exec("CREATE TABLE t (x)");
  db.close();
  Deno.writeTextFileSync(dir.path("s.json"), fixtureText(isoSec(Date.now())));
  const port = freePort();
  const args = ["--stats", dir.path("s.json"), "--db", dir.path("m.db"), "--port", String(port)];
  // Grants printed for another stats path and another port.
  const other = await flagsFor([
    "--stats",
    dir.path("elsewhere.json"),
    "--db",
    dir.path("m.db"),
    "--port",
    String(port + 1),
  ]);
  const r = await run([...other, MAIN, "check", ...args]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^PROBLEM stats file: .*s\.json: not granted/m, "not 'permission denied'");
  assert.match(r.stdout, new RegExp(`^PROBLEM listen: 127\\.0\\.0\\.1:${port}: not granted`, "m"));
  // The right grants, but the port is taken.
  const taken = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const busy = await run([...(await flagsFor(args)), MAIN, "check", ...args]);
    assert.equal(busy.code, 1, busy.stdout);
    assert.match(
      busy.stdout,
      new RegExp(`^PROBLEM listen: 127\\.0\\.0\\.1:${port} is already in use`, "m"),
    );
  } finally {
    taken.close();
  }
  // Held by a running corescope-perf (check run inside its container): said, and no problem.
  const svc = await startService(args);
  try {
    const beside = await run([...(await flagsFor(args)), MAIN, "check", ...args]);
    assert.equal(beside.code, 0, beside.stdout);
    assert.match(
      beside.stdout,
      new RegExp(
        `^ok +listen: 127\\.0\\.0\\.1:${port} is held by a running corescope-perf \\(ready, ingest `,
        "m",
      ),
    );
  } finally {
    await svc.stop();
  }
});

Deno.test("deno task start check and wait-ready run under the service's own grants", async () => {
  using dir = tempDir();
  const port = String(freePort());
  const args = ["--stats", dir.path("s.json"), "--db", dir.path("m.db"), "--port", port];
  const sh = (sub: string) => startSh([sub, ...args]);
  const dec = new TextDecoder();
  const check = await sh("check");
  const out = dec.decode(check.stdout);
  assert.equal(check.code, 1, dec.decode(check.stderr));
  assert.match(
    out,
    /^PROBLEM database: .*m\.db does not exist/m,
    "it ran, and read with its grants",
  );
  assert.match(out, /^ok +listen: /m);
  assert.doesNotMatch(dec.decode(check.stderr), /unknown argument/);
  const svc = await startService(args);
  try {
    const wait = await sh("wait-ready");
    assert.equal(wait.code, 0, dec.decode(wait.stderr));
  } finally {
    await svc.stop();
  }
});

Deno.test("deno task start reuses its grants only while everything they come from is the same, and only what permissions prints", async () => {
  using dir = tempDir();
  const cache = dir.path("cache");
  const run = (args: string[]) =>
    new Deno.Command("bash", {
      args: ["deploy/start.sh", "check", ...args],
      cwd: ROOT,
      env: { ...START_ENV, XDG_CACHE_HOME: cache },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const files = () => [...Deno.readDirSync(`${cache}/corescope-perf/grants`)].map((e) => e.name);
  const cfg = dir.path("c.json");
  Deno.writeTextFileSync(cfg, JSON.stringify({ statsPath: dir.path("a.json") }));
  const args = ["--config", cfg, "--db", dir.path("m.db"), "--port", String(freePort())];
  await run(args);
  assert.equal(files().length, 1, "asked once, kept");
  await run(args);
  assert.equal(files().length, 1, "the same: reused");
  // The database an argument names changes all the time (so does the stats file): its bytes
  // are not the config's, and the answer is still reused.
  Deno.writeTextFileSync(dir.path("m.db"), "changed");
  await run(args);
  Deno.writeTextFileSync(dir.path("m.db"), "changed again");
  await run([...args.slice(0, 2), `--db=${dir.path("m.db")}`, ...args.slice(4)]);
  assert.equal(files().length, 2, "--db=PATH is another argument list, its bytes no key");
  Deno.writeTextFileSync(dir.path("m.db"), "and again");
  await run([...args.slice(0, 2), `--db=${dir.path("m.db")}`, ...args.slice(4)]);
  assert.equal(files().length, 2, "reused");
  for (const f of files()) Deno.removeSync(`${cache}/corescope-perf/grants/${f}`);
  await run(args);
  // The config file's content changes: another answer (the stats path is in the grants).
  Deno.writeTextFileSync(cfg, JSON.stringify({ statsPath: dir.path("b.json") }));
  const out = new TextDecoder().decode((await run(args)).stdout);
  assert.equal(files().length, 2);
  assert.match(out, /b\.json/);
  assert.doesNotMatch(out, /a\.json/, "the old grants were not used");
  // A cache file that says more than permissions ever prints is not used, and is replaced.
  for (const f of files()) {
    Deno.writeTextFileSync(`${cache}/corescope-perf/grants/${f}`, "--allow-all\0--allow-run\0");
  }
  const check = new TextDecoder().decode((await run(args)).stdout);
  assert.doesNotMatch(check.match(/^ok +grants: .*$/m)![0], /--allow-all|--allow-run/);
  // It ran under them, not under the file's: with --allow-all, /proc would be readable.
  assert.match(check, /^WARN +I\/O counters: \/proc\/self\/io is under \/proc/m);
  // Each file: the key (one digest line per input: what was said, the config, the code),
  // then the grants; its name comes from the key.
  const mine = files().map((f) => ({
    f,
    records: Deno.readTextFileSync(`${cache}/corescope-perf/grants/${f}`).split("\0"),
  }));
  const now = mine.find(({ records }) => records[1]?.includes("b.json"));
  assert.ok(now && now.records[1]!.startsWith("--allow-read="), JSON.stringify(mine));
  const lines = now.records[0]!.split("\n");
  assert.equal(lines.length, 8, "what was said, the config file and six code files");
  assert.equal(now.f, lines.map((l) => l.slice(0, 8)).join(""));
  assert.ok(lines[1]!.endsWith(cfg), lines[1]);
});
