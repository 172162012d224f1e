/**
 * A simulated CoreScope ingestor, for the demo, the benchmark and tests: it inserts rows into
 * a WAL-mode SQLite database shaped like CoreScope's and writes the stats file the way the
 * real ingestor does (write `PATH.tmp` with mode 0600 without following symlinks, then rename
 * over PATH), with two MQTT sources, one of which goes write-stalled now and then.
 *
 * @module
 */

import * as fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { percentile } from "../src/ring.ts";

/** CoreScope-shaped tables, enough for realistic page counts and WAL growth. */
export const DEMO_SCHEMA = `
CREATE TABLE IF NOT EXISTS transmissions (
  id INTEGER PRIMARY KEY, hash TEXT UNIQUE NOT NULL, raw_hex TEXT NOT NULL,
  payload_type INTEGER NOT NULL, first_seen TEXT NOT NULL, from_pubkey TEXT);
CREATE TABLE IF NOT EXISTS observations (
  id INTEGER PRIMARY KEY, transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
  observer_id TEXT NOT NULL, snr REAL, rssi INTEGER, path_json TEXT, timestamp INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idx_obs_tx ON observations(transmission_id);
CREATE TABLE IF NOT EXISTS nodes (
  public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL, last_seen TEXT);
CREATE TABLE IF NOT EXISTS observers (
  id TEXT PRIMARY KEY, name TEXT, iata TEXT, last_seen TEXT, packet_count INTEGER DEFAULT 0);
`;

/**
 * Writes `text` to `path` the way the ingestor does: a new `path.tmp` (0600, O_NOFOLLOW),
 * then an atomic rename, so readers only ever see whole files.
 *
 * @example
 * ```ts ignore
 * import { writeAtomic } from "./simulator.ts";
 * writeAtomic("/tmp/corescope-ingestor-stats.json", "{}");
 * ```
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  try {
    fs.unlinkSync(tmp);
  } catch {
    // absent: fine
  }
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

/** Options of {@linkcode createSimulator}. */
export interface SimulatorOptions {
  statsPath: string;
  dbPath: string;
  /** Wall clock, ms; injectable so tests control stamps. */
  now?: () => number;
  /** Transmissions inserted per tick. */
  txPerTick?: number;
  /** The "regional" source is write-stalled for this many seconds of every minute (0: never). */
  stallSecondsPerMinute?: number;
}

/** A running simulated ingestor. */
export interface Simulator {
  /** One 1 Hz step: insert rows, then publish the stats file. Returns the stats object. */
  tick(): Record<string, unknown>;
  start(intervalMs?: number): void;
  stop(): void;
}

/** Milliseconds to three decimals, as the ingestor publishes them. */
function ms3(sorted: number[], q: number): number {
  return Math.round(percentile(sorted, q) * 1000) / 1000;
}

function hex(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/**
 * Creates (or opens) the database in WAL mode and returns a simulator over it.
 *
 * @example
 * ```ts ignore
 * import { createSimulator } from "./simulator.ts";
 * const sim = createSimulator({ statsPath: "/tmp/s.json", dbPath: "/tmp/m.db" });
 * sim.tick();
 * sim.stop();
 * ```
 */
export function createSimulator(opts: SimulatorOptions): Simulator {
  const now = opts.now ?? Date.now;
  const txPerTick = opts.txPerTick ?? 20;
  const stallSec = opts.stallSecondsPerMinute ?? 15;
  const db = new DatabaseSync(opts.dbPath);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(DEMO_SCHEMA);
  const insTx = db.prepare(
    "INSERT INTO transmissions (hash, raw_hex, payload_type, first_seen, from_pubkey) VALUES (?, ?, ?, ?, ?)",
  );
  const insObs = db.prepare(
    "INSERT INTO observations (transmission_id, observer_id, snr, rssi, path_json, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const upNode = db.prepare(
    "INSERT INTO nodes (public_key, name, role, last_seen) VALUES (?, ?, 'repeater', ?) ON CONFLICT(public_key) DO UPDATE SET last_seen = excluded.last_seen",
  );
  const upObserver = db.prepare(
    "INSERT INTO observers (id, name, iata, last_seen) VALUES (?, ?, 'SEA', ?) ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, packet_count = packet_count + 1",
  );
  const nodeKeys = Array.from({ length: 40 }, () => hex(64));
  const c = {
    tx_inserted: 0,
    obs_inserted: 0,
    tx_dupes: 0,
    node_upserts: 0,
    observer_upserts: 0,
    write_errors: 0,
    sig_drops: 0,
    walCommits: 0,
    groupCommitFlushes: 0,
  };
  const backfill = { path_json: 0, from_pubkey: 0, observer_iata: 0 };
  const holds: number[] = [];
  const startSec = Math.floor(now() / 1000);
  const live = {
    local: { lastReceiptUnix: 0, lastMessageUnix: 0 },
    regional: { lastReceiptUnix: 0, lastMessageUnix: 0 },
  };
  const packets = { local: 0, regional: 0 };
  let prevIo = { bytes: 0, at: now() };
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function dbBytes(): number {
    let n = 0;
    for (const p of [opts.dbPath, `${opts.dbPath}-wal`]) {
      try {
        n += fs.statSync(p).size;
      } catch {
        // no WAL yet
      }
    }
    return n;
  }

  function tick(): Record<string, unknown> {
    const t = now();
    const sec = Math.floor(t / 1000);
    const iso = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
    const stalled = stallSec > 0 && (sec - startSec) % 60 >= 60 - stallSec;
    const began = performance.now();
    db.exec("BEGIN IMMEDIATE");
    for (let i = 0; i < txPerTick; i++) {
      const { lastInsertRowid } = insTx.run(hex(32), hex(120), i % 5, iso, nodeKeys[i % 40]!);
      c.tx_inserted++;
      for (let o = 0; o < 3; o++) {
        insObs.run(lastInsertRowid, `obs-${o}`, 5.5 - o, -90 - o, '["a1","b2"]', sec);
        c.obs_inserted++;
      }
      upNode.run(nodeKeys[i % 40]!, `node-${i % 40}`, iso);
      c.node_upserts++;
      upObserver.run(`obs-${i % 3}`, `Observer ${i % 3}`, iso);
      c.observer_upserts++;
      if (i % 7 === 0) c.tx_dupes++;
    }
    db.exec("COMMIT");
    c.walCommits++;
    backfill.path_json += 2;
    holds.push(performance.now() - began);
    if (holds.length > 300) holds.shift();
    const sorted = [...holds].sort((a, b) => a - b);

    live.local = { lastReceiptUnix: sec, lastMessageUnix: sec };
    live.regional.lastReceiptUnix = sec;
    if (!stalled) live.regional.lastMessageUnix = sec;
    packets.local += txPerTick;
    packets.regional += stalled ? 0 : Math.ceil(txPerTick / 4);

    const bytes = dbBytes();
    const dt = Math.max(0.001, (t - prevIo.at) / 1000);
    const writeRate = Math.max(0, bytes - prevIo.bytes) / dt;
    prevIo = { bytes, at: t };
    const stats = {
      sampledAt: iso,
      ...c,
      backfillUpdates: { ...backfill },
      procIO: {
        readBytesPerSec: 0,
        writeBytesPerSec: Math.round(writeRate),
        cancelledWriteBytesPerSec: 0,
        syscallsRead: 0,
        syscallsWrite: Math.round((txPerTick * 5) / dt),
        sampledAt: iso,
      },
      writer_perf: {
        mqtt_handler: {
          count: c.walCommits,
          contention_total: 0,
          wait_ms_p50: 0,
          wait_ms_p95: 0,
          wait_ms_p99: 0,
          wait_ms_max: 0,
          hold_ms_p50: ms3(sorted, 0.5),
          hold_ms_p95: ms3(sorted, 0.95),
          hold_ms_p99: ms3(sorted, 0.99),
          hold_ms_max: ms3(sorted, 1),
        },
      },
      source_liveness: structuredClone(live),
      source_statuses: [
        {
          name: "local",
          broker: "mqtt://ingest:demo-s3cret@127.0.0.1:1883",
          connected: true,
          lastConnectUnix: startSec,
          lastDisconnectUnix: 0,
          lastPacketUnix: sec,
          connectCount: 1,
          disconnectCount: 0,
          packetsTotal: packets.local,
          packetsLast5m: txPerTick * 300,
        },
        {
          name: "regional",
          broker: "mqtts://viewer:demo-hunter2@broker.example.net:8883",
          connected: true,
          lastConnectUnix: startSec,
          lastDisconnectUnix: 0,
          lastPacketUnix: live.regional.lastMessageUnix,
          connectCount: 1,
          disconnectCount: 0,
          packetsTotal: packets.regional,
          packetsLast5m: packets.regional,
          ...(stalled ? { lastError: "write path stalled (simulated): database is locked" } : {}),
        },
      ],
      watchdogLastTickUnix: sec,
      watchdogPanicCount: 0,
    };
    writeAtomic(opts.statsPath, JSON.stringify(stats));
    return stats;
  }

  return {
    tick,
    start(intervalMs = 1000) {
      if (timer !== undefined) return;
      tick();
      timer = setInterval(tick, intervalMs);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (!closed) db.close();
      closed = true;
    },
  };
}
