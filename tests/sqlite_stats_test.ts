import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSqliteStats } from "../src/inputs/sqlite_stats.ts";
import { captureLogger, tempDir } from "./_helpers.ts";

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

Deno.test("a rollback-journal database: opened read-only, read and closed; no file created", () => {
  using t = tempDir();
  makeDb(t.path("r.db"), 50, "DELETE").close();
  const s = createSqliteStats({ path: t.path("r.db"), log: captureLogger() });
  const f = s.read();
  assert.equal(f.error, undefined);
  assert.ok(f.pageCount > 10);
  assert.deepEqual([...Deno.readDirSync(t.dir)].map((e) => e.name), ["r.db"]);
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

Deno.test("a writer's exclusive lock gives an error at once, not a wait", () => {
  using t = tempDir();
  const db = new DatabaseSync(t.path("r.db"));
  db.exec("PRAGMA journal_mode = DELETE; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  db.exec("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2);");
  const s = createSqliteStats({ path: t.path("r.db"), log: captureLogger() });
  const started = performance.now();
  const f = s.read();
  const ms = performance.now() - started;
  assert.ok(ms < 50, `took ${ms} ms: a busy wait blocks the event loop`);
  assert.match(f.error ?? "", /locked|busy/i);
  db.exec("ROLLBACK");
  assert.equal(s.read().error, undefined, "recovers once the lock is gone");
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

Deno.test("the database is read again only when it or its WAL changes identity; a failure is retried", () => {
  using t = tempDir();
  const path = t.path("r.db");
  makeDb(path, 20, "DELETE").close();
  let opens = 0;
  let locked = false;
  const s = createSqliteStats({
    path,
    log: captureLogger(),
    pragmas: () => {
      opens++;
      if (locked) throw new Error("database is locked");
      return [7, 4096, -2000];
    },
  });
  assert.equal(s.read().pageCount, 7);
  assert.equal(s.read().pageCount, 7);
  assert.equal(opens, 1, "unchanged files: two lstats answer");
  const db = new DatabaseSync(path);
  db.exec("INSERT INTO t (blob) VALUES (randomblob(20000))"); // new pages: the size changes
  db.close();
  locked = true;
  assert.match(s.read().error ?? "", /locked/);
  assert.equal(opens, 2);
  locked = false;
  assert.equal(s.read().error, undefined, "a failed reading is not cached: tried again");
  assert.equal(opens, 3);
});

import { walChecksum } from "../src/inputs/sqlite_header.ts";

/** A WAL file's bytes: a valid header, then `frames` valid frames (a commit every 8th). */
function craftWal(pageSize: number, frames: number, salts = [7, 9]): Uint8Array {
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
    v.setUint32(at, (i % 50) + 1); // page number
    v.setUint32(at + 4, i % 8 === 7 ? 100 + i : 0); // commit: database size in pages
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

Deno.test("a sparse WAL of 2 GiB with a valid header (twice the 1 GiB attack): answered at once", () => {
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
  // The last commit: frame index 8191 (i % 8 === 7), size 100 + 8191 pages.
  assert.equal(r.pageCount, 100 + frames - 1);
  // Each call checked at most one slice (a reading and a continuation: two per round).
  assert.ok(times.length >= 3 && times.length <= 8, `${times.length} continuations`);
  assert.ok(Math.max(...times) < 200, `slowest slice ${Math.max(...times)} ms`);
  s.close();
});
