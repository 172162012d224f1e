/**
 * `GET /metrics` in the Prometheus text exposition format 0.0.4, written by hand. Pure: plain
 * data in, text out. Names follow exporter conventions (base units, `_total` on counters);
 * labels are bounded (component, source, kind: at most {@linkcode MAX_SERIES} per family;
 * never a path or a pid). Unavailable data shows in `corescope_perf_source_up`, not as a
 * silent 0.
 *
 * @module
 */

import type { Freshness } from "./freshness.ts";
import type { IoSourceKind } from "./io_sampler.ts";
import type { IoCounters, IoKey } from "./proc_io.ts";
import type { SqliteFigures } from "./sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "./stats_cache.ts";
import { COUNTER_NAMES, type CounterName, type WRITER_PERF_KEYS } from "./stats_snapshot.ts";
import type { IngestVerdicts } from "./verdicts.ts";

/** The exact Content-Type of the 0.0.4 text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Series per labelled family at most: the labels come from a file in a shared directory. */
export const MAX_SERIES = 64;

/**
 * The stats cache's lookup counters, which change on every request: rendered apart from
 * {@linkcode renderMetrics} so the rest can be cached per input version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderLookups } from "./metrics.ts";
 * const text = renderLookups({ hits: 3, misses: 1, opens: 1, parses: 1, versions: 1 });
 * assert.equal(text.split("\n")[2], 'corescope_perf_stats_cache_lookups_total{result="hit"} 3');
 * ```
 */
export function renderLookups(c: StatsCacheCounters): string {
  const o = new Out();
  o.family(
    "corescope_perf_stats_cache_lookups_total",
    "counter",
    "Stats cache lookups by result.",
    [
      [{ result: "hit" }, c.hits],
      [{ result: "miss" }, c.misses],
    ],
  );
  return o.lines.join("\n") + "\n";
}

/** Everything one scrape shows (but the cache lookups: {@linkcode renderLookups}). */
export interface MetricsInput {
  ioSource: IoSourceKind;
  ioCounters: IoCounters;
  state: StatsState;
  freshness: Freshness;
  sqlite: SqliteFigures;
  cache: StatsCacheCounters;
  verdicts: IngestVerdicts;
  /** This service's version, for `corescope_perf_build_info`. */
  version: string;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** Escapes a label value: backslash, double quote and line feed. */
function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** A family writer that keeps HELP/TYPE and samples together, as the format requires. */
class Out {
  lines: string[] = [];
  family(name: string, type: "counter" | "gauge", help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples.slice(0, MAX_SERIES)) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",");
      this.lines.push(`${name}${l ? `{${l}}` : ""} ${fmt(value)}`);
    }
  }
}

const IO_METRICS: [IoKey, string, string][] = [
  [
    "read_bytes",
    "corescope_perf_io_read_bytes_total",
    "Bytes this process caused to be read from storage.",
  ],
  [
    "write_bytes",
    "corescope_perf_io_write_bytes_total",
    "Bytes this process caused to be written to storage.",
  ],
  [
    "cancelled_write_bytes",
    "corescope_perf_io_cancelled_write_bytes_total",
    "Bytes this process wrote that were discarded before reaching storage.",
  ],
  ["syscr", "corescope_perf_io_read_syscalls_total", "Read system calls of this process."],
  ["syscw", "corescope_perf_io_write_syscalls_total", "Write system calls of this process."],
];

/** snake_case metric stem for an ingestor counter name. */
function stem(name: CounterName): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Renders one scrape.
 *
 * @example
 * ```ts ignore
 * import { renderMetrics } from "./metrics.ts";
 * const text = renderMetrics(input);
 * ```
 */
export function renderMetrics(m: MetricsInput): string {
  const o = new Out();
  const snap = m.state.kind === "ok" ? m.state.snapshot : undefined;

  o.family(
    "corescope_perf_source_up",
    "gauge",
    "Whether each data source could be read (1) or not (0).",
    [
      [{ source: "stats_file" }, snap ? 1 : 0],
      [{ source: "database" }, m.sqlite.error === undefined ? 1 : 0],
      [{ source: "proc_io" }, m.ioSource === "procfs" ? 1 : 0],
    ],
  );
  o.family(
    "corescope_perf_io_source_info",
    "gauge",
    "Where this process's I/O counters come from.",
    [
      [{ source: m.ioSource }, 1],
    ],
  );
  for (const [key, name, help] of IO_METRICS) {
    const v = m.ioCounters[key];
    if (v !== undefined) o.family(name, "counter", help, [[{}, Number(v)]]);
  }

  o.family("corescope_perf_build_info", "gauge", "This service's version.", [
    [{ version: m.version }, 1],
  ]);
  o.family(
    "corescope_ingestor_stats_file_state",
    "gauge",
    "The stats file's state (1 for the current one): fresh, stale, missing or invalid.",
    [[{ state: m.verdicts.statsFile }, 1]],
  );

  const c = m.cache;
  o.family(
    "corescope_perf_stats_file_opens_total",
    "counter",
    "Times the stats file was opened and read.",
    [[{}, c.opens]],
  );
  o.family(
    "corescope_perf_stats_file_parses_total",
    "counter",
    "Times stats file contents were parsed.",
    [[{}, c.parses]],
  );
  o.family(
    "corescope_perf_stats_file_versions_total",
    "counter",
    "Distinct stats file versions (and failure states) seen.",
    [[{}, c.versions]],
  );

  o.family(
    "corescope_ingestor_stats_fresh",
    "gauge",
    "Whether the ingestor's stats sample is fresh (1) or stale or missing (0).",
    [
      [{}, m.freshness.fresh ? 1 : 0],
    ],
  );
  if (m.freshness.ageSec !== undefined) {
    o.family(
      "corescope_ingestor_stats_age_seconds",
      "gauge",
      "Age of the ingestor's stats sample.",
      [
        [{}, m.freshness.ageSec],
      ],
    );
  }

  if (snap) {
    for (const name of COUNTER_NAMES) {
      const v = snap.counters[name];
      if (v === undefined) continue;
      o.family(
        `corescope_ingestor_${stem(name)}_total`,
        "counter",
        `The ingestor's ${name} counter.`,
        [[{}, v]],
      );
    }
    o.family(
      "corescope_ingestor_backfill_updates_total",
      "counter",
      "Rows updated by each ingestor backfill.",
      Object.entries(snap.backfillUpdates ?? {}).map(([kind, v]) => [{ kind }, v]),
    );
    if (m.freshness.fresh && snap.procIO) {
      const p = snap.procIO;
      o.family(
        "corescope_ingestor_io_read_bytes_per_second",
        "gauge",
        "The ingestor's storage read rate.",
        [[{}, p.readBytesPerSec]],
      );
      o.family(
        "corescope_ingestor_io_write_bytes_per_second",
        "gauge",
        "The ingestor's storage write rate.",
        [[{}, p.writeBytesPerSec]],
      );
      o.family(
        "corescope_ingestor_io_cancelled_write_bytes_per_second",
        "gauge",
        "The ingestor's rate of writes discarded before storage.",
        [[{}, p.cancelledWriteBytesPerSec]],
      );
      o.family(
        "corescope_ingestor_io_read_syscalls_per_second",
        "gauge",
        "The ingestor's read system call rate.",
        [[{}, p.syscallsRead]],
      );
      o.family(
        "corescope_ingestor_io_write_syscalls_per_second",
        "gauge",
        "The ingestor's write system call rate.",
        [[{}, p.syscallsWrite]],
      );
    }
    const wp = Object.entries(snap.writerPerf ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).slice(
      0,
      MAX_SERIES,
    );
    o.family(
      "corescope_ingestor_writer_lock_acquisitions_total",
      "counter",
      "SQLite writer-lock acquisitions per component.",
      wp.map(([component, s]) => [{ component }, s.count]),
    );
    o.family(
      "corescope_ingestor_writer_lock_contentions_total",
      "counter",
      "SQLite writer-lock acquisitions that had to wait, per component.",
      wp.map(([component, s]) => [{ component }, s.contention_total]),
    );
    for (const kind of ["wait", "hold"] as const) {
      const samples: Sample[] = [];
      for (const [component, s] of wp) {
        for (const q of ["p50", "p95", "p99", "max"]) {
          const key = `${kind}_ms_${q}` as typeof WRITER_PERF_KEYS[number];
          samples.push([{ component, percentile: q }, s[key] / 1000]);
        }
      }
      o.family(
        `corescope_ingestor_writer_lock_${kind}_seconds`,
        "gauge",
        `SQLite writer-lock ${kind} time percentiles per component (p50, p95, p99, max), as the ingestor measured them.`,
        samples,
      );
    }
    const live = Object.entries(snap.sourceLiveness ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    o.family(
      "corescope_ingestor_source_last_receipt_timestamp_seconds",
      "gauge",
      "When the broker last delivered a message for each MQTT source (0 = never).",
      live.map(([source, l]) => [{ source }, l.lastReceiptUnix]),
    );
    o.family(
      "corescope_ingestor_source_last_write_timestamp_seconds",
      "gauge",
      "When a message of each MQTT source was last written to the database (0 = never).",
      live.map(([source, l]) => [{ source }, l.lastMessageUnix]),
    );
    o.family(
      "corescope_ingestor_source_up",
      "gauge",
      "Whether each MQTT source is receiving and writing (1) or not (0).",
      Object.entries(m.verdicts.sources).map(([source, v]) => [{ source }, v === "ok" ? 1 : 0]),
    );
    o.family(
      "corescope_ingestor_source_verdict",
      "gauge",
      "Each MQTT source's verdict (1 for the current one): ok, write_stalled, stalled, never.",
      Object.entries(m.verdicts.sources).map(([source, verdict]) => [{ source, verdict }, 1]),
    );
    const st = [...(snap.sourceStatuses ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));
    o.family(
      "corescope_ingestor_mqtt_connected",
      "gauge",
      "Whether each MQTT source is connected to its broker.",
      st.map((s) => [{ source: s.name }, s.connected ? 1 : 0]),
    );
    o.family(
      "corescope_ingestor_mqtt_packets_received_total",
      "counter",
      "Packets received from each MQTT source.",
      st.map((s) => [{ source: s.name }, s.packetsTotal]),
    );
    if (snap.watchdogLastTickUnix !== undefined) {
      o.family(
        "corescope_ingestor_watchdog_last_tick_timestamp_seconds",
        "gauge",
        "When the ingestor's watchdog loop last ran.",
        [[{}, snap.watchdogLastTickUnix]],
      );
    }
    if (snap.watchdogPanicCount !== undefined) {
      o.family(
        "corescope_ingestor_watchdog_panics_total",
        "counter",
        "Panics the ingestor's watchdog recovered from.",
        [[{}, snap.watchdogPanicCount]],
      );
    }
  }

  if (m.sqlite.error === undefined) {
    o.family("corescope_sqlite_pages", "gauge", "Pages in the database file (PRAGMA page_count).", [
      [{}, m.sqlite.pageCount],
    ]);
    o.family(
      "corescope_sqlite_page_size_bytes",
      "gauge",
      "Database page size (PRAGMA page_size).",
      [[{}, m.sqlite.pageSize]],
    );
    o.family(
      "corescope_sqlite_wal_size_bytes",
      "gauge",
      "Size of the database's write-ahead log.",
      [[{}, m.sqlite.walSize]],
    );
  }
  return o.lines.join("\n") + "\n";
}
