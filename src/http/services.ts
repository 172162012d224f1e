/**
 * What the routes read from: each a plain function or value, so tests inject fakes and the
 * runtime wires the real ones. Types only.
 *
 * @module
 */

import type { EventLoopFigures } from "../inputs/event_loop.ts";
import type { HistorySample } from "../judge/history.ts";
import type { IngestFacts } from "../judge/ingest_watch.ts";
import type { IoRates } from "../inputs/io_sampler.ts";
import type { Logger } from "../base/log.ts";
import type { IoCounters } from "../inputs/proc_io.ts";
import type { ProcessFigures } from "../inputs/process_figures.ts";
import type { RequestStats } from "./request_stats.ts";
import type { ResponseBudget } from "./response_budget.ts";
import type { SqliteFigures } from "../inputs/sqlite_stats.ts";
import type { StatsCacheCounters, StatsState } from "../inputs/stats_cache.ts";
import type { JudgePolicy } from "../judge/verdicts.ts";

/** Whether the service can answer; `reason` says why not. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** What the handlers read from; each is a plain function, so tests inject fakes. */
export interface Services {
  policy: JudgePolicy;
  /** What the ingest watch saw over the last window (replaced once a second). */
  facts: () => IngestFacts;
  /** Wall clock, ms. */
  now: () => number;
  ioRates: () => IoRates;
  ioCounters: () => IoCounters;
  /** The I/O source the config asks for (the best reader); absent: procfs. */
  ioWanted?: IoRates["ioSource"];
  /**
   * The stats file as of now: also the liveness memo (one parsed snapshot per version). `at`:
   * now on the monotonic clock (`performance.now()`), when the caller has read it.
   */
  stats: (at?: number) => StatsState;
  statsCounters: () => StatsCacheCounters;
  sqlite: () => SqliteFigures;
  readiness: () => Readiness;
  requests: RequestStats;
  history: () => HistorySample[];
  eventLoop: () => EventLoopFigures;
  memory: () => Deno.MemoryUsage;
  /** This process's standard figures (CPU, memory, start, descriptors where readable). */
  process: () => ProcessFigures;
  /** Process start, wall clock ms. */
  startedAt: number;
  version: string;
  /** Key for POST /api/perf/reset; "" disables it. */
  apiKey: string;
  /** Host names (no port) a request may name; empty: any. */
  allowedHosts: readonly string[];
  /** Bytes that large responses waiting on their clients may pin. */
  budget: ResponseBudget;
  log: Logger;
}
