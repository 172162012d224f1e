/**
 * `GET /metrics` in the Prometheus text exposition format 0.0.4, written by hand. Pure: plain
 * data in, text out. Names follow exporter conventions (base units, `_total` on counters);
 * labels are bounded (component, source, kind: at most {@linkcode MAX_SERIES} per family;
 * never a path or a pid). Unavailable data shows in `corescope_perf_source_up`, not as a
 * silent 0.
 *
 * @module
 */

import type { Freshness } from "../judge/freshness.ts";
import type { IngestFacts } from "../judge/ingest_watch.ts";
import type { ProcessFigures } from "../inputs/process_figures.ts";
import type { IoSourceKind } from "../inputs/io_sampler.ts";
import type { IoCounters, IoKey } from "../inputs/proc_io.ts";
import type { SqliteFigures } from "../inputs/sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "../inputs/stats_cache.ts";
import {
  COUNTER_NAMES,
  type CounterName,
  type ProcIoSample,
  type StatsSnapshot,
  type WRITER_PERF_KEYS,
} from "../inputs/stats_snapshot.ts";
import type { IngestVerdicts } from "../judge/verdicts.ts";

/** The exact Content-Type of the 0.0.4 text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Series per labelled family at most: the labels come from a file in a shared directory. */
export const MAX_SERIES = 64;

/**
 * The families that change between any two requests (the stats cache's lookup counters, the
 * stats sample's age and freshness), rendered apart from {@linkcode renderMetrics} so the rest
 * can be cached per input version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderVolatile } from "./metrics.ts";
 * const c = { hits: 3, misses: 1, opens: 1, parses: 1, versions: 1, deferred: 0 };
 * const text = renderVolatile(c, { fresh: true, ageSec: 0.4 });
 * assert.ok(text.includes('corescope_perf_stats_cache_lookups_total{result="hit"} 3\n'));
 * assert.ok(text.includes("corescope_ingestor_stats_age_seconds 0.4\n"));
 * ```
 */
export function renderVolatile(
  c: StatsCacheCounters,
  freshness: Freshness,
  answers: AnswersInFlight = { bytes: 0, refused: 0 },
): string {
  const o = new Out();
  o.family(
    "corescope_perf_response_bytes_in_flight",
    "gauge",
    "Bytes that answers waiting on their clients hold (the response budget's count).",
    one(answers.bytes),
  );
  o.family(
    "corescope_perf_responses_refused_total",
    "counter",
    "Answers refused with 503 because they would have passed the response budget.",
    one(answers.refused),
  );
  o.family(
    "corescope_perf_stats_cache_lookups_total",
    "counter",
    "Stats cache lookups by result.",
    [
      [{ result: "hit" }, c.hits],
      [{ result: "miss" }, c.misses],
    ],
  );
  o.family(
    "corescope_ingestor_stats_fresh",
    "gauge",
    "Whether the ingestor's stats sample is fresh (1) or stale or missing (0).",
    one(freshness.fresh ? 1 : 0),
  );
  o.family(
    "corescope_ingestor_stats_age_seconds",
    "gauge",
    "Age of the ingestor's stats sample.",
    one(freshness.ageSec),
  );
  return o.lines.join("\n") + "\n";
}

/** The response budget's figures, as a scrape shows them. */
export interface AnswersInFlight {
  bytes: number;
  refused: number;
}

/** Everything one scrape shows (but what {@linkcode renderVolatile} renders). */
export interface MetricsInput {
  ioSource: IoSourceKind;
  /** The source the config asks for: `rusage` when `procIoPath` is empty (a container). */
  ioWanted: IoSourceKind;
  ioCounters: IoCounters;
  state: StatsState;
  freshness: Freshness;
  sqlite: SqliteFigures;
  cache: StatsCacheCounters;
  verdicts: IngestVerdicts;
  /** What the ingest watch saw (restarts, the WAL's generation). */
  facts: IngestFacts;
  /** This process's standard figures. */
  process: ProcessFigures;
  /** This service's version, for `corescope_perf_build_info`. */
  version: string;
}

type Labels = Record<string, string>;
/** Labels, value, and a name suffix (a summary's `_count`). */
type Sample = [Labels, number] | [Labels, number, string];

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * Escapes a label value: backslash, double quote and line feed as the format says; any other
 * control character (the stats file's names already have none) as U+FFFD, so no scrape
 * carries a raw ESC, CR, NUL or C1 to a terminal.
 */
function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    .replace(CONTROL, "\uFFFD");
}

/**
 * A sample value as the text format writes it: `NaN`, `+Inf`, `-Inf`, or the number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmt } from "./metrics.ts";
 * assert.equal(fmt(-Infinity), "-Inf");
 * ```
 */
export function fmt(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/**
 * A family writer that keeps HELP/TYPE and samples together, as the format requires, and at
 * most {@linkcode MAX_SERIES} label sets a family: a summary's quantiles and `_count` belong
 * to their label set, so a component keeps all of its samples or none.
 */
class Out {
  lines: string[] = [];
  family(name: string, type: Family["type"], help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const sets = new Set<string>();
    for (const [labels, value, suffix = ""] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",");
      const { quantile: _, ...series } = labels; // a summary's quantiles are one set
      const set = JSON.stringify(series);
      if (!sets.has(set)) {
        if (sets.size >= MAX_SERIES) continue;
        sets.add(set);
      }
      this.lines.push(`${name}${suffix}${l ? `{${l}}` : ""} ${fmt(value)}`);
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

/** The ingestor's own I/O rates (`procIO`), as gauges. */
const PROC_IO_RATES: [Exclude<keyof ProcIoSample, "sampledAt">, string, string][] = [
  [
    "readBytesPerSec",
    "corescope_ingestor_io_read_bytes_per_second",
    "The ingestor's storage read rate.",
  ],
  [
    "writeBytesPerSec",
    "corescope_ingestor_io_write_bytes_per_second",
    "The ingestor's storage write rate.",
  ],
  [
    "cancelledWriteBytesPerSec",
    "corescope_ingestor_io_cancelled_write_bytes_per_second",
    "The ingestor's rate of writes discarded before storage.",
  ],
  [
    "syscallsRead",
    "corescope_ingestor_io_read_syscalls_per_second",
    "The ingestor's read system call rate.",
  ],
  [
    "syscallsWrite",
    "corescope_ingestor_io_write_syscalls_per_second",
    "The ingestor's write system call rate.",
  ],
];

/** snake_case metric stem for an ingestor counter name. */
function stem(name: CounterName): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** One metric family: its name, type and help, and how to read its samples from a scrape. */
interface Family {
  name: string;
  type: "counter" | "gauge" | "summary";
  help: string;
  /** The samples; none leaves the family out (data that is not there is not a silent 0). */
  samples: (m: MetricsInput, snap: StatsSnapshot | undefined) => Sample[];
}

const one = (v: number | undefined): Sample[] => (v === undefined ? [] : [[{}, v]]);

/** A family of one unlabelled sample, absent while `value` is undefined. */
function single(
  type: "gauge" | "counter",
  name: string,
  help: string,
  value: (m: MetricsInput, snap: StatsSnapshot | undefined) => number | undefined,
): Family {
  return { name, type, help, samples: (m, snap) => one(value(m, snap)) };
}
const gauge = (name: string, help: string, value: Parameters<typeof single>[3]) =>
  single("gauge", name, help, value);
const counter = (name: string, help: string, value: Parameters<typeof single>[3]) =>
  single("counter", name, help, value);

/** A gauge of one labelled sample at 1 (a state, a verdict, an info), absent without labels. */
function info(
  name: string,
  help: string,
  labels: (m: MetricsInput, snap: StatsSnapshot | undefined) => Labels | undefined,
): Family {
  return {
    name,
    type: "gauge",
    help,
    samples: (m, snap) => {
      const l = labels(m, snap);
      return l ? [[l, 1]] : [];
    },
  };
}
const byName = <T>(map: Record<string, T> | undefined): [string, T][] =>
  Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));

/** This process's families, named as every Prometheus client library names them. */
const PROCESS_FAMILIES: Family[] = [
  counter(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    (m) => m.process.cpuSeconds,
  ),
  gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    (m) => m.process.residentBytes,
  ),
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    (m) => m.process.startTimeSeconds,
  ),
  gauge(
    "process_open_fds",
    "Number of open file descriptors (from the bound /proc/self directory).",
    (m) => m.process.openFds,
  ),
  gauge(
    "process_max_fds",
    "Maximum number of open file descriptors (from the bound /proc/self directory).",
    (m) => m.process.maxFds,
  ),
];

/** This service's own families. */
const PERF_FAMILIES: Family[] = [
  {
    name: "corescope_perf_source_up",
    type: "gauge",
    help: "Whether each data source could be read (1) or not (0).",
    samples: (m, snap) => [
      [{ source: "stats_file" }, snap ? 1 : 0],
      [{ source: "database" }, m.sqlite.error === undefined ? 1 : 0],
      [{ source: "proc_io" }, m.ioSource === "procfs" ? 1 : 0],
    ],
  },
  info(
    "corescope_perf_io_source_info",
    "Where this process's I/O counters come from, and where the config asks for them.",
    (m) => ({ source: m.ioSource, wanted: m.ioWanted }),
  ),
  ...IO_METRICS.map(([key, name, help]): Family => ({
    name,
    type: "counter",
    help,
    samples: (m) => one(m.ioCounters[key] === undefined ? undefined : Number(m.ioCounters[key])),
  })),
  info("corescope_perf_build_info", "This service's version.", (m) => ({ version: m.version })),
  counter(
    "corescope_perf_stats_file_opens_total",
    "Times the stats file was opened and read.",
    (m) => m.cache.opens,
  ),
  counter(
    "corescope_perf_stats_file_parses_total",
    "Times stats file contents were parsed.",
    (m) => m.cache.parses,
  ),
  counter(
    "corescope_perf_stats_file_versions_total",
    "Distinct stats file versions (and failure states) seen.",
    (m) => m.cache.versions,
  ),
];

/** The ingestor's families, from its stats file. */
const INGESTOR_FAMILIES: Family[] = [
  info(
    "corescope_ingestor_stats_file_state",
    "The stats file's state (1 for the current one): fresh, stale, missing or invalid.",
    (m) => ({ state: m.verdicts.statsFile }),
  ),
  ...COUNTER_NAMES.map((name): Family => ({
    name: `corescope_ingestor_${stem(name)}_total`,
    type: "counter",
    help: `The ingestor's ${name} counter.`,
    samples: (_m, snap) => one(snap?.counters[name]),
  })),
  {
    name: "corescope_ingestor_backfill_updates_total",
    type: "counter",
    help: "Rows updated by each ingestor backfill.",
    samples: (_m, snap) => byName(snap?.backfillUpdates).map(([kind, v]) => [{ kind }, v]),
  },
  ...PROC_IO_RATES.map(([key, name, help]): Family => ({
    name,
    type: "gauge",
    help,
    // Only while the sample is fresh: a dead ingestor's last rates are not its rates now.
    samples: (m, snap) => one(m.freshness.fresh ? snap?.procIO?.[key] : undefined),
  })),
  {
    name: "corescope_ingestor_writer_lock_acquisitions_total",
    type: "counter",
    help: "SQLite writer-lock acquisitions per component.",
    samples: (_m, snap) =>
      byName(snap?.writerPerf).map(([component, s]) => [{ component }, s.count]),
  },
  {
    name: "corescope_ingestor_writer_lock_contentions_total",
    type: "counter",
    help: "SQLite writer-lock acquisitions that had to wait, per component.",
    samples: (_m, snap) =>
      byName(snap?.writerPerf).map(([component, s]) => [{ component }, s.contention_total]),
  },
  // Quantiles under the label every Prometheus user expects; the maximum is no quantile of a
  // window, so it is its own family.
  ...(["wait", "hold"] as const).flatMap((kind): Family[] => [{
    name: `corescope_ingestor_writer_lock_${kind}_seconds`,
    type: "summary",
    help:
      `SQLite writer-lock ${kind} time quantiles per component (0.5, 0.95, 0.99) and acquisitions, as the ingestor measured them.`,
    samples: (_m, snap) =>
      byName(snap?.writerPerf).flatMap(([component, s]): Sample[] => [
        ...([["0.5", "p50"], ["0.95", "p95"], ["0.99", "p99"]] as const).map((
          [quantile, p],
        ): Sample => [
          { component, quantile },
          s[`${kind}_ms_${p}` as typeof WRITER_PERF_KEYS[number]] / 1000,
        ]),
        [{ component }, s.count, "_count"],
      ]),
  }, {
    name: `corescope_ingestor_writer_lock_${kind}_max_seconds`,
    type: "gauge",
    help: `The longest SQLite writer-lock ${kind} time per component, as the ingestor measured it.`,
    samples: (_m, snap) =>
      byName(snap?.writerPerf).map(([component, s]) => [{ component }, s[`${kind}_ms_max`] / 1000]),
  }]),
  {
    name: "corescope_ingestor_source_last_receipt_timestamp_seconds",
    type: "gauge",
    help: "When the broker last delivered a message for each MQTT source (0 = never).",
    samples: (_m, snap) =>
      byName(snap?.sourceLiveness).map(([source, l]) => [{ source }, l.lastReceiptUnix]),
  },
  {
    name: "corescope_ingestor_source_last_write_timestamp_seconds",
    type: "gauge",
    help: "When a message of each MQTT source was last written to the database (0 = never).",
    samples: (_m, snap) =>
      byName(snap?.sourceLiveness).map(([source, l]) => [{ source }, l.lastMessageUnix]),
  },
  {
    name: "corescope_ingestor_source_up",
    type: "gauge",
    help: "Whether each MQTT source is receiving and writing (1) or not (0).",
    samples: (m, snap) =>
      snap ? byName(m.verdicts.sources).map(([source, v]) => [{ source }, v === "ok" ? 1 : 0]) : [],
  },
  {
    name: "corescope_ingestor_source_verdict",
    type: "gauge",
    help:
      "Each MQTT source's verdict (1 for the current one): ok, write_failing, disconnected, write_stalled, stalled, never, clock_wrong.",
    samples: (m, snap) =>
      snap ? byName(m.verdicts.sources).map(([source, verdict]) => [{ source, verdict }, 1]) : [],
  },
  info(
    "corescope_ingestor_writes_verdict",
    "Whether the ingest writes (1 for the current verdict): ok, write_failing (write_errors grew, or no row written while packets arrived, within writeWindowSec), unknown.",
    (m) => ({ verdict: m.verdicts.writes }),
  ),
  info(
    "corescope_ingestor_clock_verdict",
    "The ingestor's clock (1 for the current verdict): ok, milliseconds, ahead.",
    (m, snap) => (snap ? { verdict: m.verdicts.clock } : undefined),
  ),
  info(
    "corescope_ingestor_writer_lock_verdict",
    "The SQLite writer lock (1 for the current verdict): ok, contended (writes queued over 100 ms writerContentionCount times, or a wait or ingest hold p99 at or over writerLockMs moved, within writeWindowSec), unknown.",
    (m) => ({ verdict: m.verdicts.writerLock }),
  ),
  counter(
    "corescope_ingestor_restarts_total",
    "Ingestor restarts this service saw (its cumulative counters went back).",
    (m) => m.facts.restarts,
  ),
  {
    name: "corescope_ingestor_mqtt_connected",
    type: "gauge",
    help: "Whether each MQTT source is connected to its broker.",
    samples: (_m, snap) => statuses(snap).map((s) => [{ source: s.name }, s.connected ? 1 : 0]),
  },
  {
    name: "corescope_ingestor_mqtt_packets_received_total",
    type: "counter",
    help: "Packets received from each MQTT source.",
    samples: (_m, snap) => statuses(snap).map((s) => [{ source: s.name }, s.packetsTotal]),
  },
  gauge(
    "corescope_ingestor_watchdog_last_tick_timestamp_seconds",
    "When the ingestor's watchdog loop last ran.",
    (_m, snap) => snap?.watchdogLastTickUnix,
  ),
  counter(
    "corescope_ingestor_watchdog_panics_total",
    "Panics the ingestor's watchdog recovered from.",
    (_m, snap) => snap?.watchdogPanicCount,
  ),
];

/** The database's families; absent when it cannot be read. */
const SQLITE_FAMILIES: Family[] = [
  gauge(
    "corescope_sqlite_pages",
    "Pages in the database file (PRAGMA page_count).",
    (m) => m.sqlite.error === undefined ? m.sqlite.pageCount : undefined,
  ),
  gauge(
    "corescope_sqlite_page_size_bytes",
    "Database page size (PRAGMA page_size).",
    (m) => m.sqlite.error === undefined ? m.sqlite.pageSize : undefined,
  ),
  gauge(
    "corescope_sqlite_wal_size_bytes",
    "Size of the database's write-ahead log.",
    (m) => m.sqlite.error === undefined ? m.sqlite.walSize : undefined,
  ),
  info(
    "corescope_sqlite_wal_verdict",
    "Whether checkpoints keep up (1 for the current verdict): ok, checkpoint_starved (the WAL not reset for walResetStaleAfterSec while it grows).",
    (m) => ({ verdict: m.verdicts.database }),
  ),
  info(
    "corescope_sqlite_disk_verdict",
    "The database's filesystem (1 for the current verdict): ok, low (full within diskLowHours at the recent rate, or under diskLowMiB free), full (all but gone, and the ingest fails), unknown.",
    (m) => ({ verdict: m.verdicts.disk }),
  ),
  {
    name: "corescope_sqlite_disk_free_bytes",
    type: "gauge",
    help:
      "Free bytes of the database's filesystem an unprivileged writer may use (statfs f_bavail).",
    samples: (m) => one(m.facts.disk?.freeBytes),
  },
  gauge(
    "corescope_sqlite_disk_size_bytes",
    "Bytes of the database's filesystem.",
    (m) => m.facts.disk?.sizeBytes,
  ),
  gauge(
    "corescope_sqlite_database_bytes",
    "Bytes of the database file and its WAL.",
    (m) => m.facts.disk?.dbBytes,
  ),
  {
    name: "corescope_sqlite_disk_consumption_bytes_per_second",
    type: "gauge",
    help:
      "The faster of the database's growth and the free space's decline over diskWindowSec, bytes a second; absent while learning.",
    samples: (m) =>
      one(m.facts.disk?.learning === false ? m.facts.disk.consumeBytesPerSec : undefined),
  },
  {
    name: "corescope_sqlite_disk_full_in_seconds",
    type: "gauge",
    help:
      "Seconds until the database's filesystem is full at that rate; absent while learning or when nothing is consumed.",
    samples: (m) => one(m.facts.disk?.learning === false ? m.facts.disk.fullInSec : undefined),
  },
  gauge(
    "corescope_sqlite_wal_generation_age_seconds",
    "Seconds since the WAL was last reset (its salts and checkpoint sequence changed).",
    (m) => m.facts.wal ? m.facts.wal.ageSec : undefined,
  ),
];

function statuses(snap: StatsSnapshot | undefined) {
  return [...(snap?.sourceStatuses ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Renders one scrape: every family of {@linkcode PERF_FAMILIES}, the ingestor's and the
 * database's, in that order.
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
  for (
    const f of [...PROCESS_FAMILIES, ...PERF_FAMILIES, ...INGESTOR_FAMILIES, ...SQLITE_FAMILIES]
  ) {
    o.family(f.name, f.type, f.help, f.samples(m, snap));
  }
  return o.lines.join("\n") + "\n";
}
