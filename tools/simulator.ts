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
  /**
   * A second writer holds the database's write lock in bursts: every `everySec` seconds for
   * `holdMs` (0: never). Under 5000 ms (the ingestor's busy timeout) the ingest's insert waits
   * it out, and messages of the other source queue behind it; at 5000 ms or more the insert
   * fails with "database is locked".
   */
  lockBurst: { everySec: number; holdMs: number };
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
  /** The counters so far (a copy), as the next stats file will show them. */
  counters(): Record<string, number>;
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
  const faults: Faults = {
    diskFull: false,
    clockMs: false,
    clockAheadSec: 0,
    hung: false,
    lockBurst: { everySec: 0, holdMs: 0 },
  };
  const fresh = (): IngestorState => ({
    counters: Object.fromEntries(COUNTER_NAMES.map((k) => [k, 0])) as Counters,
    backfill: { path_json: 0, from_pubkey: 0, observer_iata: 0 },
    writer: newWriterStats(),
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
    // The demo's rehearsal: the broker of "regional" drops for downSec of every minute.
    const rehearsed = downSec > 0 && (sec - state.startSec) % 60 >= 60 - downSec;
    ingest(state, writer, faults, { sec, iso, regionalDown: rehearsed });
    const bytes = writer.bytes();
    const dt = Math.max(0.001, (t - prevIo.at) / 1000);
    const writeRate = Math.max(0, bytes - prevIo.bytes) / dt;
    prevIo = { bytes, at: t };
    if (faults.hung) return undefined;
    const stats = buildStats(state, { sec, iso, writeRate, dt, faults, random });
    try {
      writeAtomic(opts.statsPath, JSON.stringify(stats));
    } catch {
      // As the ingestor: a full disk fails this write too; it logs and tries again next tick.
      return undefined;
    }
    return stats;
  }

  return {
    tick,
    faults,
    counters: () => ({ ...state.counters }),
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
 * One tick of the ingest: each source's packets received, then written in one transaction
 * (or not), counted and timed as the ingestor does.
 */
function ingest(
  state: IngestorState,
  writer: ReturnType<typeof createDbWriter>,
  faults: Faults,
  at: { sec: number; iso: string; regionalDown: boolean },
): void {
  const { local, regional } = state.sources;
  const fromLocal = receive(local, at.sec, state.txPerTick, false);
  const fromRegional = receive(regional, at.sec, Math.ceil(state.txPerTick / 4), at.regionalDown);
  const packets = fromLocal + fromRegional;
  if (packets === 0) return;
  const burst = faults.lockBurst;
  const held = burst.everySec > 0 && burst.holdMs > 0 && at.sec % burst.everySec === 0
    ? burst.holdMs
    : 0;
  const w = writer.write(at.sec, at.iso, packets, { diskFull: faults.diskFull, lockHeldMs: held });
  count(state, packets, w);
  timeWrites(state.writer, { local: fromLocal, regional: fromRegional }, w, held);
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
  w: { ok: true; holdMs: number; dupes: number } | { ok: false; holdMs: number; error: string },
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
}

/** The ingestor's per-component writer-lock figures (commit a06ac8ac, db.go #1340). */
interface WriterStats {
  count: number;
  contention: number;
  /** The last 1024 waits and holds, ms, oldest first. */
  waits: number[];
  holds: number[];
  waitMax: number;
  holdMax: number;
}

function newWriterStats(): WriterStats {
  return { count: 0, contention: 0, waits: [], holds: [], waitMax: 0, holdMax: 0 };
}

/** One write's timing, recorded as the ingestor's `recordWriterTiming` does. */
function record(w: WriterStats, waitMs: number, holdMs: number): void {
  w.count++;
  if (waitMs > 100) w.contention++;
  w.waitMax = Math.max(w.waitMax, waitMs);
  w.holdMax = Math.max(w.holdMax, holdMs);
  w.waits.push(waitMs);
  w.holds.push(holdMs);
  if (w.waits.length > 1024) w.waits.shift(), w.holds.shift();
}

/**
 * Each message's insert timed as the ingestor's mqtt_handler is: one sample a message. With
 * the lock held by another writer for `heldMs`, the first insert of "local" holds the writer
 * lock that long (SQLite's busy wait is inside it), and "regional"'s inserts, which arrive on
 * their own connection meanwhile, wait that long for the writer lock.
 */
function timeWrites(
  w: WriterStats,
  from: { local: number; regional: number },
  write: { ok: boolean; holdMs: number },
  heldMs: number,
): void {
  const n = from.local + from.regional;
  // A write that failed on the lock waited out the busy timeout, each message's alike.
  const locked = !write.ok && write.holdMs >= BUSY_TIMEOUT_MS;
  const each = locked ? BUSY_TIMEOUT_MS : write.holdMs / Math.max(1, n);
  const held = locked ? 0 : Math.min(heldMs, BUSY_TIMEOUT_MS);
  for (let i = 0; i < from.local; i++) record(w, 0.0004, i === 0 ? held + each : each);
  for (let i = 0; i < from.regional; i++) record(w, held > 0 ? held : 0.0006, each);
}

/** Go's nearest-rank percentile over a sorted list (0 when empty). */
function nearestRank(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))]!;
}

/** The `writer_perf` entry of one component. */
function writerPerf(w: WriterStats): Record<string, number> {
  const waits = [...w.waits].sort((a, b) => a - b), holds = [...w.holds].sort((a, b) => a - b);
  const ms = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    count: w.count,
    contention_total: w.contention,
    wait_ms_p50: ms(nearestRank(waits, 0.5)),
    wait_ms_p95: ms(nearestRank(waits, 0.95)),
    wait_ms_p99: ms(nearestRank(waits, 0.99)),
    wait_ms_max: ms(w.waitMax),
    hold_ms_p50: ms(nearestRank(holds, 0.5)),
    hold_ms_p95: ms(nearestRank(holds, 0.95)),
    hold_ms_p99: ms(nearestRank(holds, 0.99)),
    hold_ms_max: ms(w.holdMax),
  };
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
  /** The writer lock of mqtt_handler, the one component the simulator writes as. */
  writer: WriterStats;
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
    writer_perf: { mqtt_handler: writerPerf(state.writer) },
    source_liveness: liveness,
    source_statuses: statuses,
    // The watchdog's first tick comes a minute after the ingestor starts.
    ...(sec - state.startSec >= 60 ? { watchdogLastTickUnix: stamp(sec, f) } : {}),
  };
}

/**
 * The ingest's transaction over `db`: `packets` transmissions with their observation, node and
 * observer rows, in one transaction; the dupes among them. Throws what SQLite throws, after
 * rolling back what is left to roll back.
 */
function rowInserter(
  db: DatabaseSync,
  payloadBytes: number,
  random: () => number,
): (sec: number, iso: string, packets: number) => number {
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
  return (sec: number, iso: string, packets: number): number => {
    let dupes = 0;
    db.exec("BEGIN IMMEDIATE");
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
      // SQLite may have rolled back already (a full disk does): nothing more to undo then.
      try {
        db.exec("ROLLBACK");
      } catch {
        // no transaction left
      }
      throw err;
    }
    return dupes;
  };
}

/** The ingestor's SQLite busy timeout (`_pragma=busy_timeout(5000)`). */
const BUSY_TIMEOUT_MS = 5000;

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
  // The second writer: its own connection, as another process's would be.
  const other = new DatabaseSync(dbPath);
  other.exec("PRAGMA busy_timeout = 0; CREATE TABLE IF NOT EXISTS second_writer (t INTEGER)");
  const insert = rowInserter(db, payloadBytes, random);
  return {
    /**
     * Writes one tick's packets: how long the write lock was held (ms) and the dupes, or why
     * not. `lockHeldMs`: another writer holds the lock that long first (the second writer
     * really takes it, so the insert meets SQLITE_BUSY); under the ingestor's 5000 ms busy
     * timeout the insert waits it out, at or over it the insert fails as the ingestor's does.
     */
    write(
      sec: number,
      iso: string,
      packets: number,
      f: { diskFull: boolean; lockHeldMs: number },
    ):
      | { ok: true; holdMs: number; dupes: number }
      | { ok: false; holdMs: number; error: string } {
      const began = performance.now();
      if (f.diskFull) return { ok: false, holdMs: 0, error: "database or disk is full" };
      if (f.lockHeldMs > 0) {
        other.exec("BEGIN IMMEDIATE");
        other.prepare("INSERT INTO second_writer (t) VALUES (?)").run(sec);
        try {
          insert(sec, iso, packets);
          throw new Error("the second writer did not hold the lock");
        } catch (err) {
          if (!/locked|busy/i.test((err as Error).message)) throw err;
        }
        if (f.lockHeldMs >= BUSY_TIMEOUT_MS) {
          other.exec("COMMIT");
          return { ok: false, holdMs: BUSY_TIMEOUT_MS, error: "database is locked" };
        }
        other.exec("COMMIT"); // the burst ends; the insert that waited goes on
      }
      try {
        const dupes = insert(sec, iso, packets);
        return { ok: true, holdMs: performance.now() - began, dupes };
      } catch (err) {
        const error = (err as Error).message;
        // Locked by someone else: the ingestor's insert waited its busy timeout first.
        const holdMs = /locked|busy/i.test(error) ? BUSY_TIMEOUT_MS : performance.now() - began;
        return { ok: false, holdMs, error };
      }
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
    close: () => {
      other.close();
      db.close();
    },
  };
}
