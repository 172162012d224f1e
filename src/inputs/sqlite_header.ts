/**
 * The 100-byte SQLite database header, parsed without SQLite. Used when opening the database
 * would make SQLite create `-wal`/`-shm` files beside it (a WAL database whose ingestor has
 * exited): this service never writes the operator's directory. Pure: bytes in, figures out.
 *
 * @module
 */

/** What the header says. */
export interface SqliteHeader {
  pageSize: number;
  /** Pages, from the header when its size field is valid, else from the file size. */
  pageCount: number;
  /** What `PRAGMA cache_size` reports on a new connection: the header's suggestion, else -2000. */
  cacheSize: number;
  /** True when the database is in WAL mode (read/write format version 2). */
  wal: boolean;
}

const MAGIC = "SQLite format 3\0";
/** SQLite's compiled-in default, SQLITE_DEFAULT_CACHE_SIZE. */
const DEFAULT_CACHE_SIZE = -2000;

/**
 * Parses the header; `undefined` when `bytes` do not start a SQLite 3 database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSqliteHeader } from "./sqlite_header.ts";
 * assert.equal(parseSqliteHeader(new Uint8Array(100), 0), undefined); // no magic string
 * ```
 */
export function parseSqliteHeader(bytes: Uint8Array, fileSize: number): SqliteHeader | undefined {
  if (bytes.length < 100) return undefined;
  if (new TextDecoder().decode(bytes.subarray(0, 16)) !== MAGIC) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rawPage = view.getUint16(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const changeCounter = view.getUint32(24);
  const headerPages = view.getUint32(28);
  const validFor = view.getUint32(92);
  // The in-header size is valid only when written by a version that keeps it (3.7.0+).
  const pageCount = headerPages > 0 && validFor === changeCounter
    ? headerPages
    : Math.floor(fileSize / pageSize);
  const suggested = view.getInt32(48);
  return {
    pageSize,
    pageCount,
    cacheSize: suggested === 0 ? DEFAULT_CACHE_SIZE : suggested,
    wal: bytes[18] === 2 && bytes[19] === 2,
  };
}

/** The 32-byte WAL file header's fields this service uses. */
export interface WalHeader {
  pageSize: number;
  salt1: number;
  salt2: number;
  /** Checkpoint sequence number: grows each time the WAL is reset. */
  checkpointSeq: number;
  /** Checksum words are big-endian (magic 0x377f0683), else little-endian. */
  bigEndian: boolean;
  /** The header's own checksum, which seeds the first frame's. */
  checksum: WalChecksum;
}

/** A running WAL checksum: SQLite's two 32-bit sums. */
export type WalChecksum = readonly [number, number];

/** Bytes in the WAL file header. */
export const WAL_HEADER_BYTES = 32;
/** Bytes in each WAL frame header (the page follows). */
export const WAL_FRAME_HEADER_BYTES = 24;

/**
 * Parses a WAL file header; `undefined` when the magic number, page size or header checksum
 * is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWalHeader } from "./sqlite_header.ts";
 * assert.equal(parseWalHeader(new Uint8Array(32)), undefined); // no magic number
 * // A header whose checksum fails is no WAL header either, as for SQLite.
 * const h = new Uint8Array(32);
 * new DataView(h.buffer).setUint32(0, 0x377f0682);
 * new DataView(h.buffer).setUint32(8, 4096);
 * assert.equal(parseWalHeader(h), undefined);
 * ```
 */
export function parseWalHeader(bytes: Uint8Array): WalHeader | undefined {
  if (bytes.length < WAL_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined;
  const pageSize = view.getUint32(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const bigEndian = (magic & 1) === 1;
  // SQLite ignores a WAL whose header checksum fails: so do we.
  const checksum = walChecksum(bytes.subarray(0, 24), bigEndian, [0, 0]);
  if (checksum[0] !== view.getUint32(24) || checksum[1] !== view.getUint32(28)) return undefined;
  return {
    pageSize,
    salt1: view.getUint32(16),
    salt2: view.getUint32(20),
    checkpointSeq: view.getUint32(12),
    bigEndian,
    checksum,
  };
}

/**
 * SQLite's WAL checksum (`walChecksumBytes`) of `bytes` (a multiple of 8 long), continuing
 * from `seed`: over 32-bit words in the byte order the WAL header names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walChecksum } from "./sqlite_header.ts";
 * const words = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]); // little-endian 1, 2
 * assert.deepEqual(walChecksum(words, false, [0, 0]), [1, 3]); // s1 = 1 + 0, s2 = 2 + 1
 * ```
 */
export function walChecksum(
  bytes: Uint8Array,
  bigEndian: boolean,
  seed: WalChecksum,
): WalChecksum {
  let [s1, s2] = seed;
  const n = bytes.length >>> 2;
  if (!bigEndian && (bytes.byteOffset & 3) === 0) {
    // The usual case (x86 and ARM write little-endian WALs): words read in place.
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i += 2) {
      s1 = (s1 + w[i]! + s2) >>> 0;
      s2 = (s2 + w[i + 1]! + s1) >>> 0;
    }
    return [s1, s2];
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = !bigEndian;
  for (let i = 0; i < n; i += 2) {
    s1 = (s1 + view.getUint32(4 * i, little) + s2) >>> 0;
    s2 = (s2 + view.getUint32(4 * i + 4, little) + s1) >>> 0;
  }
  return [s1, s2];
}

/**
 * Checks one whole frame (24-byte header and page) as SQLite's `walDecodeFrame` does: the
 * salts, a page number, and the running checksum from `seed` (the previous frame's, or the
 * header's for the first). The new running checksum when valid, else `undefined`: the valid
 * log ends before this frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walFrameValid } from "./sqlite_header.ts";
 * const wal = { pageSize: 512, salt1: 0, salt2: 0, checkpointSeq: 0, bigEndian: false, checksum: [0, 0] as const };
 * // Zeros with matching salts: no page number, so not a frame (a sparse file is no log).
 * assert.equal(walFrameValid(new Uint8Array(24 + 512), wal, wal.checksum), undefined);
 * ```
 */
export function walFrameValid(
  frame: Uint8Array,
  wal: WalHeader,
  seed: WalChecksum,
): WalChecksum | undefined {
  if (frame.length !== WAL_FRAME_HEADER_BYTES + wal.pageSize) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, WAL_FRAME_HEADER_BYTES);
  if (view.getUint32(8) !== wal.salt1 || view.getUint32(12) !== wal.salt2) return undefined;
  if (view.getUint32(0) === 0) return undefined;
  let sum = walChecksum(frame.subarray(0, 8), wal.bigEndian, seed);
  sum = walChecksum(frame.subarray(WAL_FRAME_HEADER_BYTES), wal.bigEndian, sum);
  if (sum[0] !== view.getUint32(16) || sum[1] !== view.getUint32(20)) return undefined;
  return sum;
}
