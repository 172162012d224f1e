/**
 * The idle floor of any sidecar that keeps this service's promise: a bare Deno.serve plus the
 * reads a 1 Hz ingest watch cannot skip, done the one safe way Deno offers (node:fs, opened
 * non-blocking and without following links, its inode checked). Once a second: the stats
 * file's lstat, open, fstat, read, fstat, close and JSON.parse; the WAL's lstat and 32-byte
 * header; the database's statfs. No judging, no history, no masking: what the service spends
 * at idle beyond this is its own code's.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read=... --allow-sys=statfs bench/reader_floor.ts STATS DB
 */
import * as fs from "node:fs";

const [stats, db] = Deno.args as [string, string];
const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;

function readSafely(path: string, n?: number): Uint8Array | undefined {
  const st = Deno.lstatSync(path);
  if (!st.isFile) return undefined;
  const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  try {
    const at = fs.fstatSync(fd);
    if (at.ino !== st.ino) return undefined;
    const buf = new Uint8Array(n ?? at.size + 1);
    const got = fs.readSync(fd, buf, 0, buf.length, n === undefined ? null : 0);
    if (n === undefined && fs.fstatSync(fd).size !== at.size) return undefined;
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

const decoder = new TextDecoder();
let seen = 0;
Deno.unrefTimer(setInterval(() => {
  try {
    const bytes = readSafely(stats);
    if (bytes) seen += Object.keys(JSON.parse(decoder.decode(bytes))).length;
    Deno.lstatSync(db);
    readSafely(`${db}-wal`, 32);
    seen += fs.statfsSync(db).bavail > 0 ? 1 : 0;
  } catch { /* a missing file is a second without a reading */ }
}, 1000));

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`reader floor listening on http://127.0.0.1:${port}/`),
}, () => new Response(String(seen)));
