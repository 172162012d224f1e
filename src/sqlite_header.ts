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
}

/** Bytes in the WAL file header. */
export const WAL_HEADER_BYTES = 32;
/** Bytes in each WAL frame header (the page follows). */
export const WAL_FRAME_HEADER_BYTES = 24;

/**
 * Parses a WAL file header; `undefined` when the magic number or page size is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWalHeader } from "./sqlite_header.ts";
 * assert.equal(parseWalHeader(new Uint8Array(32)), undefined); // no magic number
 * ```
 */
export function parseWalHeader(bytes: Uint8Array): WalHeader | undefined {
  if (bytes.length < WAL_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined;
  const pageSize = view.getUint32(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return { pageSize, salt1: view.getUint32(16), salt2: view.getUint32(20) };
}

/**
 * Reads one WAL frame header against the WAL header's salts: `undefined` when the salts
 * differ (a frame left over from before the WAL was restarted: the end of the valid log),
 * else the database size in pages after this frame's commit (0 when it is not a commit
 * frame).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walFrameCommitPages } from "./sqlite_header.ts";
 * const frame = new Uint8Array(24);
 * new DataView(frame.buffer).setUint32(4, 42); // a commit: 42 pages
 * assert.equal(walFrameCommitPages(frame, { pageSize: 4096, salt1: 0, salt2: 0 }), 42);
 * assert.equal(walFrameCommitPages(frame, { pageSize: 4096, salt1: 1, salt2: 0 }), undefined);
 * ```
 */
export function walFrameCommitPages(bytes: Uint8Array, wal: WalHeader): number | undefined {
  if (bytes.length < WAL_FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== wal.salt1 || view.getUint32(12) !== wal.salt2) return undefined;
  return view.getUint32(4);
}
