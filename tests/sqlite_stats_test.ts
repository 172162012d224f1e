import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSqliteStats } from "../src/inputs/sqlite_stats.ts";
import { readFileHead } from "../src/base/safe_read.ts";
import { captureLogger, MUTATING, tempDir } from "./_helpers.ts";

function makeDb(path: string, rows = 200, mode = "WAL"): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = ${mode}; PRAGMA wal_autocheckpoint = 0;`);
  db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, blob BLOB)");
  const ins = db.prepare("INSERT INTO t (blob) VALUES (randomblob(1000))");
  db.exec("BEGIN");
  for (let i = 0; i < rows; i++) ins.run();
  db.exec("COMMIT");
  return db;
}

const sha = async (path: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", Deno.readFileSync(path))))
    .map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("reads page count, page size, cache size and WAL size", () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  const f = s.read();
  assert.equal(f.error, undefined);
  assert.equal(f.pageSize, 4096);
  assert.ok(f.pageCount > 40, `pageCount ${f.pageCount}`);
  assert.equal(f.cacheSize, -2000);
  assert.equal(f.walSize, Deno.statSync(t.path("m.db-wal")).size);
  assert.equal(f.walSizeMB, f.walSize / 1048576);
  s.close();
  writer.close();
});

Deno.test("our reader never pins the WAL: the ingestor's TRUNCATE checkpoint succeeds", () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  for (let i = 0; i < 5; i++) {
    assert.equal(s.read().error, undefined);
    writer.exec("INSERT INTO t (blob) VALUES (randomblob(5000))");
  }
  assert.ok(Deno.statSync(t.path("m.db-wal")).size > 0);
  const r = writer.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number };
  assert.equal(r.busy, 0, "a held read transaction would make this busy");
  assert.equal(Deno.statSync(t.path("m.db-wal")).size, 0);
  assert.equal(s.read().walSize, 0);
  s.close();
  writer.close();
});

Deno.test("missing, empty, and not-a-database files give zeros and an error, never a throw", () => {
  using t = tempDir();
  Deno.writeTextFileSync(t.path("zero.db"), "");
  Deno.writeTextFileSync(t.path("text.db"), "this is not a database, just some text ".repeat(200));
  for (const name of ["missing.db", "text.db", "zero.db"]) {
    const log = captureLogger();
    const f = createSqliteStats({ path: t.path(name), log }).read();
    assert.equal(f.pageCount, 0, name);
    assert.equal(f.walSize, 0);
    assert.ok(f.error && f.error.length > 0, name);
    assert.equal(log.lines.length, 1, name);
  }
  assert.equal(Deno.statSync(t.path("zero.db")).size, 0, "never turned into a database");
});

Deno.test("a symlinked database path is refused", () => {
  using t = tempDir();
  makeDb(t.path("real.db")).close();
  Deno.symlinkSync(t.path("real.db"), t.path("link.db"));
  const f = createSqliteStats({ path: t.path("link.db"), log: captureLogger() }).read();
  assert.match(f.error ?? "", /symlink/);
});

Deno.test("a database replaced by another file: the next reading is of the new file", () => {
  using t = tempDir();
  makeDb(t.path("a.db"), 10, "DELETE").close();
  makeDb(t.path("b.db"), 400, "DELETE").close();
  Deno.copyFileSync(t.path("a.db"), t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  const small = s.read().pageCount;
  Deno.copyFileSync(t.path("b.db"), t.path("m.tmp"));
  Deno.renameSync(t.path("m.tmp"), t.path("m.db"));
  const big = s.read().pageCount;
  assert.ok(big > small, `${big} > ${small}`);
});

Deno.test("WAL page count includes commits not yet checkpointed, and agrees with SQLite", () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"), 10);
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  const pragma = () => (writer.prepare("PRAGMA page_count").get() as { page_count: number });
  for (let i = 0; i < 4; i++) {
    writer.exec("INSERT INTO t (blob) VALUES (randomblob(30000))");
    assert.equal(s.read().pageCount, pragma().page_count, `after insert ${i}`);
  }
  writer.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
  assert.equal(s.read().pageCount, pragma().page_count, "after the checkpoint");
  writer.exec("INSERT INTO t (blob) VALUES (randomblob(30000))"); // a new WAL generation
  assert.equal(s.read().pageCount, pragma().page_count, "in the next generation");
  writer.close();
});

Deno.test("readings leave the WAL files alone: no -shm change, no file created, exclusive mode works", async () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  const shmBefore = await sha(t.path("m.db-shm"));
  for (let i = 0; i < 5; i++) assert.equal(s.read().error, undefined);
  assert.equal(await sha(t.path("m.db-shm")), shmBefore, "a reader's read marks would change -shm");
  // The writer can still take the database for itself.
  writer.exec(
    "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO t (blob) VALUES (x'00'); COMMIT;",
  );
  assert.equal(s.read().error, undefined, "figures still come from the files");
  writer.close();
  // The ingestor's clean exit removes -wal and -shm: nothing of ours holds them.
  const names = [...Deno.readDirSync(t.dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["m.db"]);
});

/** What SQLite itself says of a database: page count, page size, cache size. */
function pragmas(path: string): [number, number, number] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return ["page_count", "page_size", "cache_size"].map((p) =>
      Number(Object.values(db.prepare(`PRAGMA ${p}`).get()!)[0])
    ) as [number, number, number];
  } finally {
    db.close();
  }
}

Deno.test("a rollback-journal database: figures from its header, as SQLite's PRAGMAs give them; no file created", () => {
  using t = tempDir();
  for (const [rows, pageSize, cache] of [[50, 4096, 0], [300, 1024, 500], [0, 65536, 0]]) {
    const path = t.path(`r${rows}.db`);
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA page_size = ${pageSize}; PRAGMA journal_mode = DELETE;`);
    if (cache) db.exec(`PRAGMA default_cache_size = ${cache}`);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB)");
    for (let i = 0; i < rows!; i++) db.exec("INSERT INTO t (blob) VALUES (randomblob(1000))");
    db.close();
    const f = createSqliteStats({ path, log: captureLogger() }).read();
    assert.equal(f.error, undefined);
    assert.deepEqual([f.pageCount, f.pageSize, f.cacheSize], pragmas(path), path);
  }
  assert.deepEqual([...Deno.readDirSync(t.dir)].map((e) => e.name).sort(), [
    "r0.db",
    "r300.db",
    "r50.db",
  ]);
});

/**
 * A rollback-mode database with `tables` tables of 1,000 columns each: SQLite parses the whole
 * schema before any statement (seconds). Rows written into sqlite_master directly, so making
 * it takes a moment, not the 26 s CREATE TABLE would.
 */
export function bigSchemaDb(path: string, tables: number): void {
  const db = new DatabaseSync(path, { defensive: false } as unknown as { readOnly: boolean });
  db.exec("PRAGMA journal_mode = DELETE; CREATE TABLE seed (x)");
  const root = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'seed'").get()!
    .rootpage;
  const cols = Array.from({ length: 1000 }, (_, i) => `column_number_${i} INTEGER`).join(", ");
  db.exec("PRAGMA writable_schema = ON; BEGIN");
  const ins = db.prepare(
    "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', ?, ?, ?, ?)",
  );
  for (let i = 0; i < tables; i++) {
    ins.run(`t${i}`, `t${i}`, root as number, `CREATE TABLE t${i} (${cols})`);
  }
  db.exec("COMMIT; PRAGMA writable_schema = OFF");
  db.close();
}

Deno.test("a schema twice the attack's (2,400 tables of 1,000 columns): read from the header at once", () => {
  using t = tempDir();
  const path = t.path("big.db");
  bigSchemaDb(path, 2400);
  const t0 = performance.now();
  const f = createSqliteStats({ path, log: captureLogger() }).read();
  const ms = performance.now() - t0;
  assert.equal(f.error, undefined);
  assert.equal(f.pageCount, Deno.statSync(path).size / f.pageSize);
  // SQLite itself parses the schema first: seconds, the cost a request must never wait on.
  const s0 = performance.now();
  assert.equal(pragmas(path)[0], f.pageCount);
  const sqliteMs = performance.now() - s0;
  assert.ok(sqliteMs > 20 * ms, `header ${ms.toFixed(1)} ms, SQLite ${sqliteMs.toFixed(0)} ms`);
});

Deno.test("a header that claims more pages than its file holds is reported, with the file's figure", () => {
  using t = tempDir();
  // 100 bytes: a header claiming 4,294,967,295 pages, its size field marked valid.
  const head = new Uint8Array(100);
  head.set(new TextEncoder().encode("SQLite format 3\0"));
  const v = new DataView(head.buffer);
  v.setUint16(16, 4096);
  head[18] = 1;
  head[19] = 1;
  v.setUint32(24, 7); // change counter
  v.setUint32(28, 0xffffffff); // database size in pages
  v.setUint32(92, 7); // valid for change 7
  Deno.writeFileSync(t.path("lie.db"), head);
  const f = createSqliteStats({ path: t.path("lie.db"), log: captureLogger() }).read();
  assert.equal(f.pageCount, 1);
  assert.match(f.error ?? "", /claims 4294967295 pages, the file holds 1/);
  // A size field not marked valid is not taken at its word: the file's size counts.
  v.setUint32(92, 6);
  Deno.writeFileSync(t.path("old.db"), head);
  const g = createSqliteStats({ path: t.path("old.db"), log: captureLogger() }).read();
  assert.deepEqual([g.pageCount, g.error], [0, undefined]);
});

Deno.test("ingestor gone (no -shm): figures from the header, no file created or changed", async () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"));
  const live = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  const whileRunning = live.read();
  live.close();
  writer.close(); // the ingestor exits: it checkpoints and removes -wal and -shm
  const names = () => [...Deno.readDirSync(t.dir)].map((e) => e.name).sort();
  assert.deepEqual(names(), ["m.db"]);
  const before = await sha(t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  let f;
  for (let i = 0; i < 3; i++) f = s.read();
  s.close();
  assert.deepEqual(names(), ["m.db"], "a read-only open would have created -wal and -shm");
  assert.equal(await sha(t.path("m.db")), before);
  assert.equal(f?.error, undefined);
  assert.equal(f?.pageCount, whileRunning.pageCount);
  assert.equal(f?.pageSize, 4096);
  assert.equal(f?.cacheSize, -2000);
});

Deno.test("a writer's exclusive lock is neither waited on nor an error: the header is read as it stands", () => {
  using t = tempDir();
  const db = new DatabaseSync(t.path("r.db"));
  db.exec("PRAGMA journal_mode = DELETE; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  const before = pragmas(t.path("r.db"));
  db.exec("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2);");
  const s = createSqliteStats({ path: t.path("r.db"), log: captureLogger() });
  const started = performance.now();
  const f = s.read();
  const ms = performance.now() - started;
  assert.ok(ms < 50, `took ${ms} ms: a busy wait blocks the event loop`);
  assert.equal(f.error, undefined);
  assert.deepEqual([f.pageCount, f.pageSize, f.cacheSize], before);
  db.exec("ROLLBACK");
  s.close();
  db.close();
});

Deno.test("WAL deleted under an open reader: bounded, typed answer", () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
  s.read();
  Deno.removeSync(t.path("m.db-wal"));
  const f = s.read();
  assert.equal(typeof f.pageCount, "number");
  assert.equal(f.walSize, 0);
  s.close();
  writer.close();
});

Deno.test("the database is read again only when it or its WAL changes identity; a failure to read is retried", () => {
  using t = tempDir();
  const path = t.path("r.db");
  makeDb(path, 20, "DELETE").close();
  let reads = 0;
  let denied = false;
  const s = createSqliteStats({
    path,
    log: captureLogger(),
    readHead: (p, n) => {
      reads++;
      return denied
        ? { ok: false, failure: { kind: "permission", detail: `${p}: permission denied` } }
        : readFileHead(p, n);
    },
  });
  const first = s.read();
  assert.equal(s.read(), first, "the same reading, the same object");
  assert.equal(reads, 1, "unchanged files: two lstats answer");
  const db = new DatabaseSync(path);
  db.exec("INSERT INTO t (blob) VALUES (randomblob(20000))"); // new pages: the size changes
  db.close();
  denied = true;
  assert.match(s.read().error ?? "", /permission denied/);
  assert.equal(reads, 2);
  denied = false;
  const again = s.read();
  assert.equal(again.error, undefined, "a failed reading is not kept: tried again");
  assert.equal(reads, 3);
  assert.ok(again.pageCount > first.pageCount);
});

import { walChecksum } from "../src/inputs/sqlite_header.ts";

/**
 * A WAL file's bytes: a valid header, then `frames` valid frames, frame `i` writing page
 * `i + 1`, a commit every 8th (the database then `i + 1 + extra` pages: `extra` > 0 is a size
 * the files cannot hold).
 */
function craftWal(pageSize: number, frames: number, salts = [7, 9], extra = 0): Uint8Array {
  const frameBytes = 24 + pageSize;
  const out = new Uint8Array(32 + frames * frameBytes);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x377f0682);
  v.setUint32(4, 3007000);
  v.setUint32(8, pageSize);
  v.setUint32(16, salts[0]!);
  v.setUint32(20, salts[1]!);
  let sum = walChecksum(out.subarray(0, 24), false, [0, 0]);
  v.setUint32(24, sum[0]);
  v.setUint32(28, sum[1]);
  for (let i = 0; i < frames; i++) {
    const at = 32 + i * frameBytes;
    v.setUint32(at, i + 1); // page number
    v.setUint32(at + 4, i % 8 === 7 ? i + 1 + extra : 0); // commit: database size in pages
    v.setUint32(at + 8, salts[0]!);
    v.setUint32(at + 12, salts[1]!);
    out[at + 24] = i & 0xff; // some page content
    sum = walChecksum(out.subarray(at, at + 8), false, sum);
    sum = walChecksum(out.subarray(at + 24, at + frameBytes), false, sum);
    v.setUint32(at + 16, sum[0]);
    v.setUint32(at + 20, sum[1]);
  }
  return out;
}

/** A WAL-mode database with no WAL left (its writer closed cleanly); its page count. */
function walDbHeader(path: string): number {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)");
  const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  db.close(); // checkpoints and removes the WAL; the header keeps WAL mode
  return pages;
}

Deno.test("a corrupted frame ends the log where SQLite ends it: the page counts agree", () => {
  using t = tempDir();
  const writer = makeDb(t.path("m.db"), 10);
  for (let i = 0; i < 6; i++) writer.exec("INSERT INTO t (blob) VALUES (randomblob(200000))");
  // Copies of the database and its WAL, as a crash would leave them.
  const db = Deno.readFileSync(t.path("m.db")), wal = Deno.readFileSync(t.path("m.db-wal"));
  writer.close();
  const pageSize = new DataView(wal.buffer).getUint32(8);
  const frames = (wal.length - 32) / (24 + pageSize);
  // Flip one byte in the page of a frame in the middle: its checksum (and every later
  // frame's, since they chain) fails.
  wal[32 + Math.floor(frames / 2) * (24 + pageSize) + 24 + 100]! ^= 0xff;
  for (const dir of ["ours", "sqlite"]) {
    Deno.mkdirSync(t.path(dir));
    Deno.writeFileSync(t.path(`${dir}/m.db`), db);
    Deno.writeFileSync(t.path(`${dir}/m.db-wal`), wal);
  }
  const ours = createSqliteStats({ path: t.path("ours/m.db"), log: captureLogger() });
  const got = ours.read().pageCount;
  const check = new DatabaseSync(t.path("sqlite/m.db"));
  const want = (check.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  check.close();
  ours.close();
  assert.equal(got, want);
});

Deno.test("a WAL commit that claims more pages than the files hold (4,294,967,295) is reported", () => {
  using t = tempDir();
  walDbHeader(t.path("m.db"));
  Deno.writeFileSync(t.path("m.db-wal"), craftWal(4096, 16, [7, 9], 0xffffffff - 16));
  const r = createSqliteStats({ path: t.path("m.db"), log: captureLogger() }).read();
  assert.match(r.error ?? "", /a commit claims 4294967295 pages, the files hold 16/);
  assert.equal(r.pageCount, 16);
  // One page more than the files hold is one too many.
  Deno.writeFileSync(t.path("m.db-wal"), craftWal(4096, 16, [8, 9], 1));
  const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() }).read();
  assert.match(s.error ?? "", /claims 17 pages, the files hold 16/);
  Deno.writeFileSync(t.path("m.db-wal"), craftWal(4096, 16, [9, 9], 0));
  assert.deepEqual(
    [createSqliteStats({ path: t.path("m.db"), log: captureLogger() }).read().error],
    [undefined],
  );
});

Deno.test({
  name: "a sparse WAL of 2 GiB with a valid header (twice the 1 GiB attack): answered at once",
  ignore: MUTATING,
  fn: () => {
    using t = tempDir();
    const pages = walDbHeader(t.path("m.db"));
    const header = craftWal(4096, 0, [0, 0]);
    const f = Deno.openSync(t.path("m.db-wal"), { create: true, write: true });
    f.writeSync(header);
    f.truncateSync(2 * 1024 ** 3); // zeros: salts 0/0 match, but page number 0 is no frame
    f.close();
    const s = createSqliteStats({ path: t.path("m.db"), log: captureLogger() });
    const t0 = performance.now();
    const r = s.read();
    const ms = performance.now() - t0;
    s.close();
    assert.ok(ms < 100, `${ms} ms`);
    assert.equal(r.walSize, 2 * 1024 ** 3);
    assert.equal(r.pageCount, pages, "the database's own header: the WAL holds no commit");
  },
});

Deno.test("a long valid WAL is checked in slices of the budget, each reading bounded", () => {
  using t = tempDir();
  walDbHeader(t.path("m.db"));
  const frames = 8 * 1024; // 32 MiB of 4 KiB frames: eight slices of 4 MiB
  Deno.writeFileSync(t.path("m.db-wal"), craftWal(4096, frames));
  const pending: (() => void)[] = [];
  const s = createSqliteStats({
    path: t.path("m.db"),
    log: captureLogger(),
    schedule: (next) => {
      pending.push(next);
      return () => {};
    },
  });
  const times: number[] = [];
  let r = s.read();
  for (let i = 0; i < 20 && pending.length > 0; i++) {
    const t0 = performance.now();
    pending.shift()!();
    times.push(performance.now() - t0);
    r = s.read();
  }
  assert.equal(pending.length, 0, "the scan finished");
  // The last commit: frame index 8191 (i % 8 === 7), size 8192 pages.
  assert.equal(r.pageCount, frames);
  assert.equal(r.error, undefined);
  // Each call checked at most one slice (a reading and a continuation: two per round).
  assert.ok(times.length >= 3 && times.length <= 8, `${times.length} continuations`);
  assert.ok(Math.max(...times) < 200, `slowest slice ${Math.max(...times)} ms`);
  s.close();
});

import { startService } from "./_service.ts";

Deno.test({
  name:
    "the service over a rollback-mode database of 2,400 tables x 1,000 columns: listening within 2 s, healthz and sqlite within 1 s, SIGTERM within 2 s",
  ignore: MUTATING,
  fn: async () => {
    using t = tempDir();
    const db = t.path("big.db");
    bigSchemaDb(db, 2400);
    const t0 = performance.now();
    const svc = await startService(["--port", "0", "--stats", t.path("s.json"), "--db", db]);
    const listeningMs = performance.now() - t0;
    try {
      assert.ok(listeningMs < 2000, `listening after ${listeningMs.toFixed(0)} ms`);
      for (const path of ["/api/healthz", "/api/perf/sqlite", "/metrics"]) {
        const p0 = performance.now();
        const res = await fetch(`${svc.base}${path}`);
        const text = await res.text();
        const ms = performance.now() - p0;
        assert.equal(res.status, 200, path);
        assert.ok(ms < 1000, `${path}: ${ms.toFixed(0)} ms`);
        if (path === "/api/perf/sqlite") {
          assert.equal(JSON.parse(text).pageCount, Deno.statSync(db).size / 4096);
        }
      }
    } finally {
      const { code, ms } = await svc.stop();
      assert.equal(code, 0);
      assert.ok(ms < 2000, `SIGTERM took ${ms.toFixed(0)} ms`);
    }
  },
});

Deno.test("glance: the WAL's header is read again only when the WAL changed, or changed too recently to tell", () => {
  using dir = tempDir();
  const path = dir.path("g.db");
  walDbHeader(path);
  const wal = `${path}-wal`;
  const at = new Date(1_700_000_000_000);
  const put = (salts: number[]) => {
    Deno.writeFileSync(wal, craftWal(4096, 8, salts));
    Deno.utimeSync(wal, at, at); // same size and mtime: the same identity each time
  };
  let now = at.getTime() + 60_000;
  const s = createSqliteStats({ path, log: captureLogger(), wall: () => now });
  put([7, 9]);
  assert.equal(s.glance().walGeneration, "7.9.0");
  put([8, 9]);
  assert.equal(s.glance().walGeneration, "7.9.0", "a settled, unchanged identity: not read");
  const later = new Date(at.getTime() + 1);
  Deno.utimeSync(wal, later, later);
  assert.equal(s.glance().walGeneration, "8.9.0", "a new mtime: read again");
  // Read within its own mtime's racy window, a reading is not kept.
  const recent = new Date(at.getTime() + 2);
  now = recent.getTime() + 10;
  put([1, 2]);
  Deno.utimeSync(wal, recent, recent);
  assert.equal(s.glance().walGeneration, "1.2.0");
  put([3, 4]);
  Deno.utimeSync(wal, recent, recent);
  assert.equal(s.glance().walGeneration, "3.4.0", "racy: read again though the identity is equal");
});

Deno.test("a new version of the WAL alone does not read the database's header again; a checkpoint does", () => {
  using t = tempDir();
  const path = t.path("k.db");
  const writer = makeDb(path, 20);
  let heads = 0;
  const s = createSqliteStats({
    path,
    log: captureLogger(),
    wall: () => Date.now() + 60_000, // every mtime settled
    readHead: (p, n, probe) => {
      heads++;
      return readFileHead(p, n, probe);
    },
  });
  const first = s.read();
  s.glance();
  assert.equal(heads, 1, "read and glance share the one reading");
  const ins = writer.prepare("INSERT INTO t (blob) VALUES (randomblob(5000))");
  for (let i = 0; i < 3; i++) {
    ins.run();
    const f = s.read();
    assert.ok(f.pageCount > first.pageCount && f.walSize > first.walSize);
    assert.equal(s.glance().walSize, f.walSize);
  }
  assert.equal(heads, 1, "three commits into the WAL, the database file untouched: not read");
  writer.exec("PRAGMA wal_checkpoint(TRUNCATE)"); // the pages move into the database file
  const after = s.read();
  assert.equal(heads, 2, "the database file changed: read again");
  assert.equal(after.walSize, 0);
  assert.ok(after.pageCount > first.pageCount, `${after.pageCount}`);
  s.close();
  writer.close();
});
