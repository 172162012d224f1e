import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseSqliteHeader } from "../src/inputs/sqlite_header.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("parseSqliteHeader agrees with SQLite's own PRAGMAs", () => {
  using t = tempDir();
  for (const [mode, pageSize] of [["WAL", 4096], ["DELETE", 8192], ["WAL", 65536]] as const) {
    const path = t.path(`${mode}-${pageSize}.db`);
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA page_size = ${pageSize}; PRAGMA journal_mode = ${mode};`);
    db.exec("CREATE TABLE t (b BLOB); INSERT INTO t VALUES (randomblob(300000));");
    const pragma = (p: string) => Object.values(db.prepare(`PRAGMA ${p}`).get()!)[0];
    const want = { pageCount: pragma("page_count"), pageSize: pragma("page_size") };
    db.close();
    const bytes = Deno.readFileSync(path);
    const h = parseSqliteHeader(bytes.subarray(0, 100), bytes.length);
    assert.deepEqual(h, { ...want, cacheSize: -2000, wal: mode === "WAL" });
  }
});

Deno.test("parseSqliteHeader rejects what is not a SQLite 3 header", () => {
  assert.equal(parseSqliteHeader(new Uint8Array(50), 50), undefined);
  assert.equal(parseSqliteHeader(new TextEncoder().encode("x".repeat(100)), 100), undefined);
  const bad = new Uint8Array(100);
  bad.set(new TextEncoder().encode("SQLite format 3\0"));
  bad[16] = 0x03; // page size 768: not a power of two
  assert.equal(parseSqliteHeader(bad, 4096), undefined);
});
