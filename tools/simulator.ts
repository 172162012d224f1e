/**
 * A simulated CoreScope ingestor, for the demo, the benchmark, tests and operators who want to
 * rehearse their alerts: it inserts rows into a WAL-mode SQLite database shaped like
 * CoreScope's and writes the stats file the way the real ingestor does, with two MQTT sources
 * and the failures the real ingestor meets (a locked database, a full disk, a broker down or
 * silent, a restart, a hang, a wrong clock).
 *
 * @module
 */

import * as fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { percentile } from "../src/base/figures.ts";
import { COUNTER_NAMES } from "../src/inputs/stats_snapshot.ts";

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
  /** Transmissions received (and written) per tick on "local"; "regional" gets a quarter. */
  txPerTick?: number;
  /** Bytes of payload per transmission: larger rows grow the WAL faster. */
  payloadBytes?: number;
  /**
   * The demo's rehearsal: the broker of "regional" drops for this many seconds of every
   * minute (0: never).
   */
  brokerDownSecondsPerMinute?: number;
  /** Random numbers (the order of `source_statuses`, payloads); injectable for tests. */
  random?: () => number;
}

/** The two simulated MQTT sources. */
export type SourceName = "local" | "regional";

/** Failures to rehearse, each as the real ingestor shows it. */
export interface Faults {
  /** Every write fails with "database or disk is full" (write_errors grow, rows flat). */
  diskFull: boolean;
  /** Unix stamps in milliseconds (a clock bug in the writer). */
  clockMs: boolean;
  /** The ingestor's clock an hour ahead of ours. */
  clockAheadSec: number;
  /** The process is hung: the stats file is no longer rewritten. */
  hung: boolean;
}

/** A running simulated ingestor. */
export interface Simulator {
  /**
   * One 1 Hz step: receive packets, write them (or fail to), publish the stats file.
   * Returns the stats object, or `undefined` while hung (nothing written).
   */
  tick(): Record<string, unknown> | undefined;
  start(intervalMs?: number): void;
  stop(): void;
  /** The failures now in force; change them between ticks. */
  faults: Faults;
  /**
   * The broker of `source` goes down (`connected: false`, `lastError: "EOF"`, no packets) or
   * comes back (reconnected: `connectCount` + 1).
   */
  brokerDown(source: SourceName, down: boolean): void;
  /** The broker of `source` stays connected but delivers nothing. */
  brokerSilent(source: SourceName, silent: boolean): void;
  /** The ingestor restarts: counters from 0, no watchdog stamp for its first 60 s. */
  restart(): void;
}

/** Milliseconds to three decimals, as the ingestor publishes them. */
function ms3(sorted: number[], q: number): number {
  return Math.round(percentile(sorted, q) * 1000) / 1000;
}

function hex(n: number, random: () => number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
  return s;
}

/** One MQTT source as the ingestor tracks it. */
interface SourceState {
  broker: string;
  down: boolean;
  silent: boolean;
  connected: boolean;
  lastConnectUnix: number;
  lastDisconnectUnix: number;
  lastPacketUnix: number;
  connectCount: number;
  disconnectCount: number;
  packetsTotal: number;
  /** Packets of the last 300 ticks, for `packetsLast5m`. */
  recent: number[];
  lastError?: string;
  clocks: Clocks;
}

/**
 * Creates (or opens) the database in WAL mode and returns a simulator over it. It behaves as
 * CoreScope's ingestor (commit a06ac8ac) does, failures included:
 * - a source's message clock is stamped when its handler *starts*, before the write: under a
 *   locked database (or a full disk) the clocks stay fresh, `write_errors` grows by one per
 *   message and the row counters stay flat;
 * - a broker that drops shows `connected: false` and `lastError: "EOF"` at once; when it is
 *   back, `connectCount` is one more;
 * - `watchdogLastTickUnix` is absent for the first 60 s after a start;
 * - `source_statuses` come in a new random order each tick; rates are Go floats;
 * - the file is written to `PATH.tmp` (0600, no symlink follow) and renamed over PATH, with
 *   no trailing newline.
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
  const random = opts.random ?? Math.random;
  const txPerTick = opts.txPerTick ?? 20;
  const downSec = opts.brokerDownSecondsPerMinute ?? 0;
  const writer = createDbWriter(opts.dbPath, opts.payloadBytes ?? 60, random);
  const faults: Faults = { diskFull: false, clockMs: false, clockAheadSec: 0, hung: false };
  const fresh = (): IngestorState => ({
    counters: Object.fromEntries(COUNTER_NAMES.map((k) => [k, 0])) as Counters,
    backfill: { path_json: 0, from_pubkey: 0, observer_iata: 0 },
    holds: [],
    startSec: Math.floor(now() / 1000),
    sources: {
      local: source("mqtt://ingest:demo-s3cret@127.0.0.1:1883"),
      regional: source("mqtts://viewer:demo-hunter2@broker.example.net:8883"),
    },
    txPerTick,
  });
  let state = fresh();
  let prevIo = { bytes: writer.bytes(), at: now() };
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function tick(): Record<string, unknown> | undefined {
    const t = now();
    const sec = Math.floor(t / 1000);
    const iso = new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
    const { local, regional } = state.sources;
    const down = (name: SourceName) =>
      name === "regional" && downSec > 0 && (sec - state.startSec) % 60 >= 60 - downSec;
    const packets = receive(local, sec, txPerTick, down("local")) +
      receive(regional, sec, Math.ceil(txPerTick / 4), down("regional"));
    if (packets > 0) count(state, packets, writer.write(sec, iso, packets, faults.diskFull));
    const bytes = writer.bytes();
    const dt = Math.max(0.001, (t - prevIo.at) / 1000);
    const writeRate = Math.max(0, bytes - prevIo.bytes) / dt;
    prevIo = { bytes, at: t };
    if (faults.hung) return undefined;
    const stats = buildStats(state, { sec, iso, writeRate, dt, faults, random });
    writeAtomic(opts.statsPath, JSON.stringify(stats));
    return stats;
  }

  return {
    tick,
    faults,
    brokerDown(name, down) {
      state.sources[name].down = down;
    },
    brokerSilent(name, silent) {
      state.sources[name].silent = silent;
    },
    restart() {
      state = fresh();
    },
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

/**
 * One tick's packets on one source as the ingestor's handler sees them: a broker that drops
 * is `connected: false` with `lastError: "EOF"` at once, one that comes back counts a
 * connect; both clocks are stamped when the handler starts, before the write.
 */
function receive(s: SourceState, sec: number, arriving: number, rehearsedDown: boolean): number {
  const down = s.down || rehearsedDown;
  if (down && s.connected) {
    s.connected = false;
    s.lastDisconnectUnix = sec;
    s.disconnectCount++;
    s.lastError = "EOF";
  } else if (!down && !s.connected) {
    s.connected = true;
    s.lastConnectUnix = sec;
    s.connectCount++;
  }
  const packets = s.connected && !s.silent ? arriving : 0;
  s.recent.push(packets);
  if (s.recent.length > 300) s.recent.shift();
  if (packets > 0) {
    s.packetsTotal += packets;
    s.lastPacketUnix = sec;
    s.clocks = { lastReceiptUnix: sec, lastMessageUnix: sec };
  }
  return packets;
}

/** Counts one tick's write: rows when it succeeded, one write error a message when not. */
function count(
  state: IngestorState,
  packets: number,
  w: { ok: true; holdMs: number; dupes: number } | { ok: false; error: string },
): void {
  const c = state.counters;
  if (!w.ok) {
    c.write_errors += packets; // one per message, as each handler's write fails
    return;
  }
  c.tx_inserted += packets - w.dupes;
  c.tx_dupes += w.dupes;
  c.obs_inserted += packets;
  c.node_upserts += packets;
  c.observer_upserts += packets;
  c.walCommits++;
  state.backfill.path_json += 2;
  state.holds.push(w.holdMs);
  if (state.holds.length > 300) state.holds.shift();
}

/** A source the ingestor has not connected yet. */
function source(broker: string): SourceState {
  return {
    broker,
    down: false,
    silent: false,
    connected: false,
    lastConnectUnix: 0,
    lastDisconnectUnix: 0,
    lastPacketUnix: 0,
    connectCount: 0,
    disconnectCount: 0,
    packetsTotal: 0,
    recent: [],
    clocks: { lastReceiptUnix: 0, lastMessageUnix: 0 },
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
  sources: Record<SourceName, SourceState>;
  txPerTick: number;
}

/** A unix stamp as the faulty or healthy ingestor writes it. */
function stamp(sec: number, f: Faults): number {
  if (sec === 0) return 0;
  return f.clockMs ? (sec + f.clockAheadSec) * 1000 : sec + f.clockAheadSec;
}

/**
 * The stats file the ingestor would write for `state` at this tick, with the fake broker
 * passwords the masking tests look for. Pure but for the order of `source_statuses`.
 */
function buildStats(
  state: IngestorState,
  at: {
    sec: number;
    iso: string;
    writeRate: number;
    dt: number;
    faults: Faults;
    random: () => number;
  },
): Record<string, unknown> {
  const { sec, faults: f } = at;
  const iso = f.clockAheadSec === 0
    ? at.iso
    : new Date((sec + f.clockAheadSec) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const sorted = [...state.holds].sort((a, b) => a - b);
  const names = Object.keys(state.sources) as SourceName[];
  // Go ranges over a map: a new order each tick.
  const order = names.map((n) => [at.random(), n] as const).sort((a, b) => a[0] - b[0]);
  const statuses = order.map(([, name]) => {
    const s = state.sources[name];
    return {
      name,
      broker: s.broker,
      connected: s.connected,
      lastConnectUnix: stamp(s.lastConnectUnix, f),
      lastDisconnectUnix: stamp(s.lastDisconnectUnix, f),
      lastPacketUnix: stamp(s.lastPacketUnix, f),
      connectCount: s.connectCount,
      disconnectCount: s.disconnectCount,
      packetsTotal: s.packetsTotal,
      packetsLast5m: s.recent.reduce((a, b) => a + b, 0),
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    };
  });
  const liveness = Object.fromEntries(names.map((name) => {
    const c = state.sources[name].clocks;
    return [name, {
      lastReceiptUnix: stamp(c.lastReceiptUnix, f),
      lastMessageUnix: stamp(c.lastMessageUnix, f),
    }];
  }));
  return {
    sampledAt: iso,
    ...state.counters,
    backfillUpdates: { ...state.backfill },
    procIO: {
      readBytesPerSec: 0,
      // Go floats, as the real file has them (229541.72522340197).
      writeBytesPerSec: at.writeRate,
      cancelledWriteBytesPerSec: 0,
      syscallsRead: 0,
      syscallsWrite: (state.txPerTick * 5) / at.dt,
      sampledAt: iso,
    },
    writer_perf: {
      mqtt_handler: {
        count: state.counters.walCommits,
        contention_total: 0,
        wait_ms_p50: 0.000381,
        wait_ms_p95: 0.000571,
        wait_ms_p99: 0.000712,
        wait_ms_max: 0.033249,
        hold_ms_p50: ms3(sorted, 0.5),
        hold_ms_p95: ms3(sorted, 0.95),
        hold_ms_p99: ms3(sorted, 0.99),
        hold_ms_max: ms3(sorted, 1),
      },
    },
    source_liveness: liveness,
    source_statuses: statuses,
    // The watchdog's first tick comes a minute after the ingestor starts.
    ...(sec - state.startSec >= 60 ? { watchdogLastTickUnix: stamp(sec, f) } : {}),
  };
}

/**
 * The database side: one transaction per tick of `packets` transmissions, in WAL mode, with
 * no busy wait (a locked database fails the write at once, as the ingestor's handler sees it).
 */
function createDbWriter(
  dbPath: string,
  payloadBytes: number,
  random: () => number,
) {
  const db = new DatabaseSync(dbPath);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0;");
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
  const nodeKeys = Array.from({ length: 40 }, () => hex(64, random));
  let serial = 0;
  return {
    /** Writes one tick's packets: how long the write lock was held and the dupes, or why not. */
    write(
      sec: number,
      iso: string,
      packets: number,
      diskFull: boolean,
    ): { ok: true; holdMs: number; dupes: number } | { ok: false; error: string } {
      const began = performance.now();
      let dupes = 0;
      try {
        if (diskFull) throw new Error("database or disk is full");
        db.exec("BEGIN IMMEDIATE");
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
      try {
        for (let i = 0; i < packets; i++) {
          const payload = hex(payloadBytes * 2, random);
          const { lastInsertRowid } = insTx.run(
            `${++serial}-${hex(16, random)}`,
            payload,
            i % 5,
            iso,
            nodeKeys[i % 40]!,
          );
          insObs.run(lastInsertRowid, `obs-${i % 3}`, 5.5, -90, '["a1","b2"]', sec);
          upNode.run(nodeKeys[i % 40]!, `node-${i % 40}`, iso);
          upObserver.run(`obs-${i % 3}`, `Observer ${i % 3}`, iso);
          if (i % 7 === 6) dupes++;
        }
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        return { ok: false, error: (err as Error).message };
      }
      return { ok: true, holdMs: performance.now() - began, dupes };
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
