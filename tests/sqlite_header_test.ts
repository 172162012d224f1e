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

import { parseWalHeader, walChecksum, walFrameValid } from "../src/inputs/sqlite_header.ts";

/** A WAL header and one frame, in `bigEndian` or little-endian checksum order, valid. */
function walOf(bigEndian: boolean, pageSize = 512) {
  const header = new Uint8Array(32);
  const h = new DataView(header.buffer);
  h.setUint32(0, bigEndian ? 0x377f0683 : 0x377f0682);
  h.setUint32(4, 3007000);
  h.setUint32(8, pageSize);
  h.setUint32(12, 5); // checkpoint sequence
  h.setUint32(16, 0x11223344);
  h.setUint32(20, 0x55667788);
  const hs = walChecksum(header.subarray(0, 24), bigEndian, [0, 0]);
  h.setUint32(24, hs[0]);
  h.setUint32(28, hs[1]);
  const frame = new Uint8Array(24 + pageSize);
  const f = new DataView(frame.buffer);
  f.setUint32(0, 1);
  f.setUint32(4, 1);
  f.setUint32(8, 0x11223344);
  f.setUint32(12, 0x55667788);
  for (let i = 0; i < pageSize; i++) frame[24 + i] = (i * 7) & 0xff;
  let s = walChecksum(frame.subarray(0, 8), bigEndian, hs);
  s = walChecksum(frame.subarray(24), bigEndian, s);
  f.setUint32(16, s[0]);
  f.setUint32(20, s[1]);
  return { header, frame };
}

Deno.test("WAL checksums in both byte orders: the magic number says which", () => {
  for (const bigEndian of [false, true]) {
    const { header, frame } = walOf(bigEndian);
    const wal = parseWalHeader(header);
    assert.ok(wal, `${bigEndian ? "big" : "little"}-endian header`);
    assert.equal(wal.bigEndian, bigEndian);
    assert.deepEqual([wal.pageSize, wal.checkpointSeq, wal.salt1, wal.salt2], [
      512,
      5,
      0x11223344,
      0x55667788,
    ]);
    assert.ok(walFrameValid(frame, wal, wal.checksum), "its frame checks");
    // Read in the other order, the same bytes do not check.
    assert.equal(walFrameValid(frame, { ...wal, bigEndian: !bigEndian }, wal.checksum), undefined);
  }
  // Unaligned bytes take the slow path and agree with the fast one.
  const words = new Uint8Array(17);
  words.set([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0], 1);
  assert.deepEqual(
    walChecksum(words.subarray(1), false, [5, 6]),
    walChecksum(words.slice(1), false, [5, 6]),
  );
});

Deno.test("a WAL header is refused on either checksum word, the page size or the magic", () => {
  const { header } = walOf(false);
  for (const [name, at] of [["first checksum word", 27], ["second checksum word", 31]] as const) {
    const bad = header.slice();
    bad[at]! ^= 1;
    assert.equal(parseWalHeader(bad), undefined, name);
  }
  const magic = header.slice();
  new DataView(magic.buffer).setUint32(0, 0x377f0684);
  assert.equal(parseWalHeader(magic), undefined, "magic");
  for (const size of [256, 768, 131072]) {
    const { header: h } = walOf(false, 65536);
    const v = new DataView(h.buffer);
    v.setUint32(8, size);
    const s = walChecksum(h.subarray(0, 24), false, [0, 0]);
    v.setUint32(24, s[0]);
    v.setUint32(28, s[1]);
    assert.equal(parseWalHeader(h), undefined, `page size ${size}`);
  }
  assert.equal(parseWalHeader(header.subarray(0, 31)), undefined, "short");
});

Deno.test("a WAL frame is refused on its salts, a zero page number, either checksum word, its size", () => {
  const { header, frame } = walOf(true);
  const wal = parseWalHeader(header)!;
  const cases: [string, (f: Uint8Array) => Uint8Array][] = [
    ["salt 1", (f) => (f[11]! ^= 1, f)],
    ["salt 2", (f) => (f[15]! ^= 1, f)],
    ["page number 0", (f) => (f.fill(0, 0, 4), f)],
    ["checksum word 1", (f) => (f[19]! ^= 1, f)],
    ["checksum word 2", (f) => (f[23]! ^= 1, f)],
    ["a page byte", (f) => (f[100]! ^= 1, f)],
    ["short", (f) => f.subarray(0, f.length - 1)],
  ];
  for (const [name, spoil] of cases) {
    assert.equal(walFrameValid(spoil(frame.slice()), wal, wal.checksum), undefined, name);
  }
});

/** A database header: the magic, `rawPage` as the page size field, the counters given. */
function dbHeader(o: {
  rawPage?: number;
  headerPages?: number;
  change?: number;
  validFor?: number;
  versions?: [number, number];
}): Uint8Array {
  const b = new Uint8Array(100);
  b.set(new TextEncoder().encode("SQLite format 3\0"));
  const v = new DataView(b.buffer);
  v.setUint16(16, o.rawPage ?? 4096);
  [b[18], b[19]] = o.versions ?? [1, 1];
  v.setUint32(24, o.change ?? 7);
  v.setUint32(28, o.headerPages ?? 3);
  v.setUint32(92, o.validFor ?? o.change ?? 7);
  return b;
}

Deno.test("parseSqliteHeader, field by field: size, magic, page sizes, the in-header count, WAL mode", () => {
  assert.equal(parseSqliteHeader(dbHeader({}).subarray(0, 99), 4096), undefined, "99 bytes");
  const noMagic = dbHeader({});
  noMagic[0] = 0x73;
  assert.equal(parseSqliteHeader(noMagic, 4096), undefined, "no magic");
  for (
    const [raw, want] of [[256, undefined], [512, 512], [1, 65536], [768, undefined], [
      0,
      undefined,
    ]]
  ) {
    assert.equal(
      parseSqliteHeader(dbHeader({ rawPage: raw }), 1 << 20)?.pageSize,
      want,
      `raw ${raw}`,
    );
  }
  const count = (o: Parameters<typeof dbHeader>[0]) =>
    parseSqliteHeader(dbHeader(o), 40960)?.pageCount;
  assert.equal(count({ headerPages: 3 }), 3, "the header's count when valid");
  assert.equal(count({ headerPages: 3, validFor: 6 }), 10, "stale: from the file's size");
  assert.equal(count({ headerPages: 0, change: 0, validFor: 0 }), 10, "none: from the file's size");
  const wal = (versions: [number, number]) => parseSqliteHeader(dbHeader({ versions }), 4096)?.wal;
  assert.deepEqual([wal([2, 2]), wal([1, 1]), wal([2, 1]), wal([1, 2])], [
    true,
    false,
    false,
    false,
  ]);
});

Deno.test("a WAL header: 64 KiB pages taken; a wrong magic refused even with a right checksum", () => {
  const { header } = walOf(false, 65536);
  assert.equal(parseWalHeader(header)?.pageSize, 65536);
  const magic = header.slice();
  const v = new DataView(magic.buffer);
  v.setUint32(0, 0x377f0684);
  const s = walChecksum(magic.subarray(0, 24), false, [0, 0]);
  v.setUint32(24, s[0]);
  v.setUint32(28, s[1]);
  assert.equal(parseWalHeader(magic), undefined);
});
