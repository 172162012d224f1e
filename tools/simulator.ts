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
import { COUNTER_NAMES } from "../src/stats_snapshot.ts";

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
  const writer = createDbWriter(opts.dbPath, txPerTick);
  const state: IngestorState = {
    counters: Object.fromEntries(COUNTER_NAMES.map((k) => [k, 0])) as Counters,
    backfill: { path_json: 0, from_pubkey: 0, observer_iata: 0 },
    holds: [],
    startSec: Math.floor(now() / 1000),
    live: {
      local: { lastReceiptUnix: 0, lastMessageUnix: 0 },
      regional: { lastReceiptUnix: 0, lastMessageUnix: 0 },
    },
    packets: { local: 0, regional: 0 },
    txPerTick,
  };
  let prevIo = { bytes: 0, at: now() };
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function tick(): Record<string, unknown> {
    const t = now();
    const sec = Math.floor(t / 1000);
    const iso = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
    const stalled = stallSec > 0 && (sec - state.startSec) % 60 >= 60 - stallSec;
    const { holdMs, dupes } = writer.write(sec, iso);
    const c = state.counters;
    c.tx_inserted += txPerTick;
    c.obs_inserted += txPerTick * 3;
    c.node_upserts += txPerTick;
    c.observer_upserts += txPerTick;
    c.tx_dupes += dupes;
    c.walCommits++;
    state.backfill.path_json += 2;
    state.holds.push(holdMs);
    if (state.holds.length > 300) state.holds.shift();
    state.live.local = { lastReceiptUnix: sec, lastMessageUnix: sec };
    state.live.regional.lastReceiptUnix = sec;
    if (!stalled) state.live.regional.lastMessageUnix = sec;
    state.packets.local += txPerTick;
    state.packets.regional += stalled ? 0 : Math.ceil(txPerTick / 4);
    const bytes = writer.bytes();
    const dt = Math.max(0.001, (t - prevIo.at) / 1000);
    const writeRate = Math.max(0, bytes - prevIo.bytes) / dt;
    prevIo = { bytes, at: t };
    const stats = buildStats(state, { sec, iso, stalled, writeRate, dt });
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
      if (!closed) writer.close();
      closed = true;
    },
  };
}

type Counters = Record<typeof COUNTER_NAMES[number], number>;
type Clocks = { lastReceiptUnix: number; lastMessageUnix: number };

/** What the simulated ingestor has counted so far: plain data. */
interface IngestorState {
  counters: Counters;
  backfill: { path_json: number; from_pubkey: number; observer_iata: number };
  /** Recent writer-lock hold times, ms. */
  holds: number[];
  startSec: number;
  live: { local: Clocks; regional: Clocks };
  packets: { local: number; regional: number };
  txPerTick: number;
}

/**
 * The stats file the ingestor would write for `state` at this tick, with the fake broker
 * passwords the masking tests look for. Pure.
 */
function buildStats(
  state: IngestorState,
  at: { sec: number; iso: string; stalled: boolean; writeRate: number; dt: number },
): Record<string, unknown> {
  const { sec, iso, stalled } = at;
  const sorted = [...state.holds].sort((a, b) => a - b);
  const status = (name: string, broker: string, lastPacketUnix: number, total: number) => ({
    name,
    broker,
    connected: true,
    lastConnectUnix: state.startSec,
    lastDisconnectUnix: 0,
    lastPacketUnix,
    connectCount: 1,
    disconnectCount: 0,
    packetsTotal: total,
  });
  return {
    sampledAt: iso,
    ...state.counters,
    backfillUpdates: { ...state.backfill },
    procIO: {
      readBytesPerSec: 0,
      writeBytesPerSec: Math.round(at.writeRate),
      cancelledWriteBytesPerSec: 0,
      syscallsRead: 0,
      syscallsWrite: Math.round((state.txPerTick * 5) / at.dt),
      sampledAt: iso,
    },
    writer_perf: {
      mqtt_handler: {
        count: state.counters.walCommits,
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
    source_liveness: structuredClone(state.live),
    source_statuses: [
      {
        ...status("local", "mqtt://ingest:demo-s3cret@127.0.0.1:1883", sec, state.packets.local),
        packetsLast5m: state.txPerTick * 300,
      },
      {
        ...status(
          "regional",
          "mqtts://viewer:demo-hunter2@broker.example.net:8883",
          state.live.regional.lastMessageUnix,
          state.packets.regional,
        ),
        packetsLast5m: state.packets.regional,
        ...(stalled ? { lastError: "write path stalled (simulated): database is locked" } : {}),
      },
    ],
    watchdogLastTickUnix: sec,
    watchdogPanicCount: 0,
  };
}

/** The database side: one transaction of `txPerTick` transmissions per tick, in WAL mode. */
function createDbWriter(dbPath: string, txPerTick: number) {
  const db = new DatabaseSync(dbPath);
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
  return {
    /** Writes one tick; how long the write lock was held, and how many dupes it saw. */
    write(sec: number, iso: string): { holdMs: number; dupes: number } {
      const began = performance.now();
      let dupes = 0;
      db.exec("BEGIN IMMEDIATE");
      for (let i = 0; i < txPerTick; i++) {
        const { lastInsertRowid } = insTx.run(hex(32), hex(120), i % 5, iso, nodeKeys[i % 40]!);
        for (let o = 0; o < 3; o++) {
          insObs.run(lastInsertRowid, `obs-${o}`, 5.5 - o, -90 - o, '["a1","b2"]', sec);
        }
        upNode.run(nodeKeys[i % 40]!, `node-${i % 40}`, iso);
        upObserver.run(`obs-${i % 3}`, `Observer ${i % 3}`, iso);
        if (i % 7 === 0) dupes++;
      }
      db.exec("COMMIT");
      return { holdMs: performance.now() - began, dupes };
    },
    /** Bytes of the database and its WAL. */
    bytes(): number {
      let n = 0;
      for (const p of [dbPath, `${dbPath}-wal`]) {
        try {
          n += fs.statSync(p).size;
        } catch {
          // no WAL yet
        }
      }
      return n;
    },
    close: () => db.close(),
  };
}
