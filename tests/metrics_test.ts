import assert from "node:assert/strict";
import {
  fmt,
  MAX_SERIES,
  METRICS_CONTENT_TYPE,
  type MetricsInput,
  renderMetrics,
  renderVolatile,
} from "../src/http/metrics.ts";
import type { StatsState } from "../src/inputs/stats_cache.ts";
import { parseStatsSnapshot, WRITER_PERF_KEYS } from "../src/inputs/stats_snapshot.ts";
import { judgeIngest } from "../src/judge/verdicts.ts";
import { fixtureText, MUTATING, serviceArgs, tempDir, TEST_POLICY } from "./_helpers.ts";
import { startService } from "./_service.ts";
import { missing, needs, TOOLS } from "./_env.ts";

function input(text: string | undefined, over: Partial<MetricsInput> = {}): MetricsInput {
  const p = text === undefined ? undefined : parseStatsSnapshot(text);
  const state: StatsState = p?.ok
    ? { kind: "ok", version: 1, snapshot: p.snapshot }
    : { kind: "unavailable", version: 1, reason: "missing", detail: "gone" };
  const freshness = { fresh: true, ageSec: 0.5 };
  return {
    ioSource: "procfs",
    ioWanted: "procfs",
    ioCounters: {
      read_bytes: 1n,
      write_bytes: 2n,
      cancelled_write_bytes: 3n,
      syscr: 4n,
      syscw: 5n,
    },
    state,
    freshness,
    sqlite: { walSizeMB: 0, walSize: 1024, pageCount: 7, pageSize: 4096, cacheSize: -2000 },
    cache: { hits: 9, misses: 1, opens: 1, parses: 1, versions: 1, deferred: 0 },
    // The fixture's clocks stand at 2025-11-23T12:00:00Z: judged half a second later.
    verdicts: judgeIngest(state, 1763899200500, TEST_POLICY, { restarts: 0 }),
    process: {
      cpuSeconds: 1.5,
      residentBytes: 52428800,
      startTimeSeconds: 1763899000,
      openFds: 12,
      maxFds: 4096,
    },
    facts: {
      restarts: 0,
      wal: {
        generation: "1.2.3",
        since: 0,
        ageSec: 42,
        sizeAtSince: 0,
        size: 1024,
        pageSize: 4096,
      },
      disk: {
        freeBytes: 8 * 2 ** 30,
        sizeBytes: 32 * 2 ** 30,
        dbBytes: 2 ** 30,
        spanSec: 3600,
        windowSec: 3600,
        learning: false,
        growthBytesPerSec: 1000,
        consumeBytesPerSec: 1200,
        fullInSec: (8 * 2 ** 30) / 1200,
      },
    },
    version: "9.9.9",
    ...over,
  };
}

/** One whole scrape, as GET /metrics sends it. */
const scrape = (inp: MetricsInput) => renderMetrics(inp) + renderVolatile(inp.cache, inp.freshness);

/** value of the first sample line starting with `series` */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const FIX = fixtureText("2025-11-23T12:00:00Z");

Deno.test("metrics: the ingestor's counters, rates, latencies and liveness, in base units", () => {
  const t = scrape(input(FIX));
  assert.equal(value(t, "corescope_ingestor_tx_inserted_total"), 1843201);
  assert.equal(value(t, "corescope_ingestor_wal_commits_total"), 1911034);
  assert.equal(value(t, "corescope_ingestor_group_commit_flushes_total"), 0);
  assert.equal(value(t, 'corescope_ingestor_backfill_updates_total{kind="path_json"}'), 12044);
  assert.equal(value(t, "corescope_ingestor_io_write_bytes_per_second"), 851968);
  assert.equal(
    value(
      t,
      'corescope_ingestor_writer_lock_wait_max_seconds{component="neighbor_builder"}',
    ),
    0.4025,
  );
  // Quantiles under the label Prometheus users expect, in a summary with its count.
  assert.equal(
    value(
      t,
      'corescope_ingestor_writer_lock_wait_seconds{component="neighbor_builder",quantile="0.99"}',
    ),
    0.031,
  );
  assert.equal(
    value(t, 'corescope_ingestor_writer_lock_wait_seconds_count{component="neighbor_builder"}'),
    1440,
  );
  assert.doesNotMatch(t, /percentile=/);
  assert.equal(
    value(t, 'corescope_ingestor_source_last_write_timestamp_seconds{source="regional"}'),
    1763898950,
  );
  assert.equal(value(t, 'corescope_ingestor_source_up{source="local"}'), 1);
  assert.equal(value(t, 'corescope_ingestor_source_up{source="regional"}'), 0, "write-stalled");
  assert.equal(value(t, "corescope_ingestor_stats_age_seconds"), 0.5);
  assert.equal(value(t, "corescope_perf_io_read_syscalls_total"), 4);
  assert.equal(value(t, "corescope_sqlite_wal_size_bytes"), 1024);
  assert.equal(value(t, "corescope_perf_stats_file_parses_total"), 1);
  assert.ok(!t.includes("s3cret") && !t.includes("hunter2"));
});

Deno.test("metrics: unavailable data is visible in source_up, never a silent 0", () => {
  const t = scrape(input(undefined, {
    ioSource: "rusage",
    ioCounters: { read_bytes: 512n, write_bytes: 0n },
    freshness: { fresh: false },
    sqlite: { walSizeMB: 0, walSize: 0, pageCount: 0, pageSize: 0, cacheSize: 0, error: "gone" },
  }));
  assert.equal(value(t, 'corescope_perf_source_up{source="stats_file"}'), 0);
  // Where the counters come from, and where the config asked for them (the alert's filter).
  assert.equal(value(t, 'corescope_perf_io_source_info{source="rusage",wanted="procfs"}'), 1);
  assert.equal(value(t, 'corescope_perf_source_up{source="database"}'), 0);
  assert.equal(value(t, 'corescope_perf_source_up{source="proc_io"}'), 0);
  assert.equal(value(t, "corescope_ingestor_tx_inserted_total"), undefined);
  assert.equal(value(t, "corescope_sqlite_pages"), undefined);
  assert.equal(
    value(t, "corescope_perf_io_read_syscalls_total"),
    undefined,
    "rusage has no syscalls",
  );
  assert.equal(value(t, "corescope_ingestor_stats_fresh"), 0);
});

Deno.test("metrics: label values are escaped and label sets are capped", () => {
  const live: Record<string, unknown> = {};
  for (let i = 0; i < 500; i++) live[`src-${i}`] = { lastReceiptUnix: 1, lastMessageUnix: 1 };
  live['evil"\\\nname'] = { lastReceiptUnix: 1, lastMessageUnix: 1 };
  const t = scrape(input(JSON.stringify({ source_liveness: live })));
  const series = t.split("\n").filter((l) =>
    l.startsWith("corescope_ingestor_source_last_receipt_timestamp_seconds{")
  );
  assert.equal(series.length, MAX_SERIES);
  const escaped = scrape(
    input(JSON.stringify({ source_liveness: { 'a"b\\c': { lastReceiptUnix: 1 } } })),
  );
  assert.ok(escaped.includes('source="a\\"b\\\\c"'), escaped);
});

Deno.test("metrics: the renderer caps label sets, not samples: a summary keeps every quantile of the 64 components it shows", () => {
  // More components than the parser ever lets through (it caps at 64 too), straight to the
  // renderer: its own cap is what is tested.
  const parsed = parseStatsSnapshot(JSON.stringify({ sampledAt: "2026-11-23T12:00:00Z" }));
  assert.ok(parsed.ok);
  const perf = Object.fromEntries(
    WRITER_PERF_KEYS.map((k) => [k, 1]),
  ) as Record<typeof WRITER_PERF_KEYS[number], number>;
  const snapshot = {
    ...parsed.snapshot,
    writerPerf: Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`c${String(i).padStart(3, "0")}`, perf]),
    ),
  };
  const t = renderMetrics(input(undefined, {
    state: { kind: "ok", version: 1, snapshot },
  }));
  const family = (name: string) => t.split("\n").filter((l) => l.startsWith(`${name}{`));
  const quantiles = family("corescope_ingestor_writer_lock_wait_seconds");
  const components = new Set(quantiles.map((l) => /component="([^"]+)"/.exec(l)![1]));
  assert.equal(components.size, MAX_SERIES, "64 components");
  assert.equal(quantiles.length, MAX_SERIES * 3, "each with its three quantiles");
  assert.equal(family("corescope_ingestor_writer_lock_wait_seconds_count").length, MAX_SERIES);
  assert.equal(family("corescope_ingestor_writer_lock_acquisitions_total").length, MAX_SERIES);
  assert.ok(components.has("c063") && !components.has("c064"), "the first 64 by name");
});

Deno.test("metrics: no control character reaches a label value (ESC, CR, NUL, LF, C1), and names stay distinct", () => {
  const names = ["n\u001b[2J", "n\r", "n\u0000", "n\n", "n\u009b", "n\u007f"];
  const live = Object.fromEntries(
    names.map((n) => [n, { lastReceiptUnix: 1, lastMessageUnix: 1 }]),
  );
  const t = scrape(input(JSON.stringify({ source_liveness: live })));
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(t, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  const labels = [
    ...t.matchAll(
      /^corescope_ingestor_source_last_receipt_timestamp_seconds\{source="([^"]*)"\}/gm,
    ),
  ]
    .map((m) => m[1]);
  assert.equal(labels.length, names.length);
  assert.equal(new Set(labels).size, names.length, labels.join(" | "));
  assert.ok(labels.includes("n\uFFFD[2J"), labels.join(" | "));
});

async function promtool(args: string[], stdin?: string) {
  try {
    const p = new Deno.Command("promtool", {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin ?? ""));
    await w.close();
    const out = await p.output();
    const dec = new TextDecoder();
    return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } catch (err) {
    return { code: -1, text: String(err) };
  }
}

Deno.test(
  needs(
    missing(TOOLS.promtool),
    "promtool check metrics finds nothing, with and without data",
    async () => {
      for (const inp of [input(FIX), input(undefined, { freshness: { fresh: false } })]) {
        const r = await promtool(
          ["check", "metrics"],
          scrape(inp),
        );
        assert.equal(r.code, 0, r.text);
        assert.equal(r.text.trim(), "", r.text);
      }
    },
  ),
);

Deno.test({
  name: "GET /metrics over HTTP has the exact 0.0.4 content type",
  ignore: MUTATING,
  async fn() {
    using dir = tempDir();
    const svc = await startService(serviceArgs(dir));
    try {
      const res = await fetch(`${svc.base}/metrics`);
      assert.equal(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
      const text = await res.text();
      assert.match(text, /^corescope_perf_source_up\{source="stats_file"\} 0$/m);
    } finally {
      await svc.stop();
    }
  },
});

/** Metric family names (or `*` patterns) in the first column of docs/metrics.md's table. */
function readmeFamilies(): RegExp[] {
  const readme = Deno.readTextFileSync(new URL("../docs/metrics.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## `GET /metrics`"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| metric")));
  const names: string[] = [];
  for (const row of table.split("\n").slice(2)) {
    const first = row.split("|")[1] ?? "";
    for (const [, n] of first.matchAll(/`([a-z_{},*]+)`/g)) {
      // Expand one {a,b,c} group: corescope_perf_io_{read,write}_syscalls_total.
      const m = /^(.*)\{([^}]*)\}(.*)$/.exec(n!);
      if (m) { for (const alt of m[2]!.split(",")) names.push(`${m[1]}${alt}${m[3]}`); }
      else names.push(n!);
    }
  }
  return names.map((n) => new RegExp(`^${n.replaceAll("*", "[a-z_]+")}$`));
}

Deno.test("metrics: docs/metrics.md names every family exposed, and each it names is exposed", () => {
  const exposed = [...scrape(input(FIX)).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
  const documented = readmeFamilies();
  assert.ok(documented.length > 20, `${documented.length} families read from the README`);
  for (const name of exposed) {
    assert.ok(documented.some((re) => re.test(name)), `${name} is not in the README's table`);
  }
  for (const re of documented) {
    assert.ok(exposed.some((name) => re.test(name)), `${re.source} is documented, not exposed`);
  }
});

Deno.test("names that become equal stay distinct in every label set (masking, cutting, UTF-16 repair)", () => {
  const long = "x".repeat(200);
  const text = JSON.stringify({
    sampledAt: "2026-11-23T12:00:00Z",
    source_liveness: {
      "mqtt://u:pw1@h": { lastReceiptUnix: 1, lastMessageUnix: 1 },
      "mqtt://u:pw2@h": { lastReceiptUnix: 1, lastMessageUnix: 1 },
      [`${long}a`]: { lastReceiptUnix: 1, lastMessageUnix: 1 },
      [`${long}b`]: { lastReceiptUnix: 1, lastMessageUnix: 1 },
      // Two lone surrogates: both become U+FFFD, and must stay two names.
      [String.fromCharCode(115, 0xd800)]: { lastReceiptUnix: 1, lastMessageUnix: 1 },
      [String.fromCharCode(115, 0xd801)]: { lastReceiptUnix: 1, lastMessageUnix: 1 },
    },
    source_statuses: [
      { name: "mqtt://u:pw2@h", connected: true },
      { name: "mqtt://u:pw1@h", connected: false },
      { name: "s\udc00", connected: false },
      { name: "s\udc01", connected: false },
    ],
  });
  const t = scrape(input(text));
  const series = t.split("\n").filter((l) => l && !l.startsWith("#")).map((l) =>
    l.slice(0, l.lastIndexOf(" "))
  );
  assert.equal(new Set(series).size, series.length, "no series twice");
  // The disconnected source keeps its own series: pw1 sorts first, so it is the plain name.
  assert.equal(value(t, 'corescope_ingestor_mqtt_connected{source="mqtt://u:****@h"}'), 0);
  assert.equal(value(t, 'corescope_ingestor_mqtt_connected{source="mqtt://u:****@h (2)"}'), 1);
  assert.ok(!t.includes("pw1") && !t.includes("pw2"));
  assert.ok(new TextDecoder("utf-8", { fatal: true }).decode(new TextEncoder().encode(t)));
});

Deno.test("sources named like Object's members are entries like any other", () => {
  const text = JSON.stringify({
    sampledAt: "2026-11-23T12:00:00Z",
    source_liveness: JSON.parse(
      '{"__proto__":{"lastReceiptUnix":1,"lastMessageUnix":1},"constructor":{"lastReceiptUnix":0,"lastMessageUnix":0}}',
    ),
  });
  const parsed = parseStatsSnapshot(text);
  assert.ok(parsed.ok);
  assert.deepEqual(Object.keys(parsed.snapshot.sourceLiveness!), ["__proto__", "constructor"]);
  assert.equal(Object.getPrototypeOf(parsed.snapshot.sourceLiveness), Object.prototype);
  const t = scrape(input(text));
  assert.match(t, /corescope_ingestor_source_verdict\{source="__proto__"/);
  assert.match(t, /corescope_ingestor_source_verdict\{source="constructor"/);
  assert.ok(!t.includes("native code"));
});

Deno.test("metrics: the ingestor's I/O rates only while its file is fresh; a source never heard from is not up", () => {
  const now = Math.floor(Date.parse("2025-11-23T12:00:00Z") / 1000);
  const text = JSON.stringify({
    sampledAt: "2025-11-23T12:00:00Z",
    procIO: {
      readBytesPerSec: 11,
      writeBytesPerSec: 22,
      cancelledWriteBytesPerSec: 0,
      syscallsRead: 3,
      syscallsWrite: 4,
      sampledAt: "2025-11-23T12:00:00Z",
    },
    source_liveness: {
      heard: { lastReceiptUnix: now, lastMessageUnix: now },
      silent: { lastReceiptUnix: 0, lastMessageUnix: 0 },
    },
  });
  const rateLines = (t: string) =>
    t.split("\n").filter((l) =>
      /^corescope_ingestor_io_\S+ /.test(l) || /^corescope_ingestor_\w*per_second /.test(l)
    );
  const fresh = scrape(input(text));
  assert.ok(rateLines(fresh).length >= 2, fresh);
  const stale = scrape(input(text, { freshness: { fresh: false, ageSec: 60, reason: "too_old" } }));
  assert.deepEqual(rateLines(stale), [], "a dead ingestor's last rates are not its rates now");
  assert.equal(value(fresh, 'corescope_ingestor_source_up{source="heard"}'), 1);
  assert.equal(value(fresh, 'corescope_ingestor_source_up{source="silent"}'), 0, "never: not up");
});

/** The families of a scrape: name, HELP text, TYPE, sample lines, in order. */
function families(text: string) {
  const out: { name: string; help: string; type: string; samples: string[] }[] = [];
  const lines = text.trimEnd().split("\n");
  for (let i = 0; i < lines.length; i++) {
    const help = /^# HELP (\S+) (.*)$/.exec(lines[i]!);
    if (help) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(lines[++i]!);
      assert.ok(type && type[1] === help[1], `TYPE after HELP of ${help[1]}`);
      out.push({ name: help[1]!, help: help[2]!, type: type[2]!, samples: [] });
    } else out.at(-1)!.samples.push(lines[i]!);
  }
  return out;
}

Deno.test("metrics: every family written has words in its HELP, a TYPE, samples of its own name; none empty", () => {
  const fams = families(scrape(input(FIX)));
  assert.ok(fams.length > 50, `${fams.length} families`);
  for (const f of fams) {
    assert.ok(f.help.trim().length > 10, `${f.name}: HELP "${f.help}"`);
    assert.ok(["gauge", "counter", "summary"].includes(f.type), `${f.name}: ${f.type}`);
    assert.ok(f.samples.length > 0, `${f.name} has samples`);
    for (const l of f.samples) assert.ok(l.startsWith(f.name), `${f.name}: ${l}`);
  }
  assert.equal(new Set(fams.map((f) => f.name)).size, fams.length, "each family once");
  // A family with nothing to say is not written at all, not even its HELP.
  const bare = scrape(input(FIX, { facts: { restarts: 0 } }));
  for (
    const name of [
      "corescope_sqlite_disk_free_bytes",
      "corescope_sqlite_wal_generation_age_seconds",
    ]
  ) {
    assert.ok(!bare.includes(name), name);
  }
});

Deno.test("metrics: the cache and freshness lines, exactly", () => {
  assert.equal(
    renderVolatile(
      { hits: 9, misses: 1, opens: 1, parses: 1, versions: 1, deferred: 0 },
      { fresh: false, ageSec: 7.25 },
      { bytes: 4096, refused: 3 },
    ),
    [
      "# HELP corescope_perf_response_bytes_in_flight Bytes that answers waiting on their clients hold (the response budget's count).",
      "# TYPE corescope_perf_response_bytes_in_flight gauge",
      "corescope_perf_response_bytes_in_flight 4096",
      "# HELP corescope_perf_responses_refused_total Answers refused with 503 because they would have passed the response budget.",
      "# TYPE corescope_perf_responses_refused_total counter",
      "corescope_perf_responses_refused_total 3",
      "# HELP corescope_perf_stats_cache_lookups_total Stats cache lookups by result.",
      "# TYPE corescope_perf_stats_cache_lookups_total counter",
      'corescope_perf_stats_cache_lookups_total{result="hit"} 9',
      'corescope_perf_stats_cache_lookups_total{result="miss"} 1',
      "# HELP corescope_ingestor_stats_fresh Whether the ingestor's stats sample is fresh (1) or stale or missing (0).",
      "# TYPE corescope_ingestor_stats_fresh gauge",
      "corescope_ingestor_stats_fresh 0",
      "# HELP corescope_ingestor_stats_age_seconds Age of the ingestor's stats sample.",
      "# TYPE corescope_ingestor_stats_age_seconds gauge",
      "corescope_ingestor_stats_age_seconds 7.25",
      "",
    ].join("\n"),
  );
  assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
  assert.deepEqual([fmt(NaN), fmt(Infinity), fmt(-Infinity), fmt(1.5)], [
    "NaN",
    "+Inf",
    "-Inf",
    "1.5",
  ]);
});

Deno.test("metrics: labelled samples in name order whatever the file's order", () => {
  const doc = {
    sampledAt: "2025-11-23T12:00:00Z",
    backfillUpdates: { zeta: 1, alpha: 2, mid: 3 },
    source_statuses: [
      { name: "zz", connected: true, lastPacketUnix: 1763899199 },
      { name: "aa", connected: true, lastPacketUnix: 1763899199 },
    ],
  };
  const t = scrape(input(JSON.stringify(doc)));
  const order = (prefix: string, label: string) =>
    t.split("\n").filter((l) => l.startsWith(prefix)).map((l) =>
      new RegExp(`${label}="([^"]+)"`).exec(l)![1]
    );
  assert.deepEqual(order("corescope_ingestor_backfill_updates_total{", "kind"), [
    "alpha",
    "mid",
    "zeta",
  ]);
  assert.deepEqual(order("corescope_ingestor_mqtt_connected{", "source"), ["aa", "zz"]);
});

Deno.test("metrics: the disk while learning, without a reading; the database's figures only when it was read; no procIO, no rates", () => {
  const base = input(FIX).facts.disk!;
  const learning = scrape(
    input(FIX, { facts: { restarts: 0, disk: { ...base, learning: true } } }),
  );
  assert.equal(value(learning, "corescope_sqlite_disk_free_bytes"), base.freeBytes);
  assert.equal(value(learning, "corescope_sqlite_disk_consumption_bytes_per_second"), undefined);
  assert.equal(value(learning, "corescope_sqlite_disk_full_in_seconds"), undefined);
  const known = scrape(input(FIX));
  assert.equal(value(known, "corescope_sqlite_disk_consumption_bytes_per_second"), 1200);
  assert.equal(value(known, "corescope_sqlite_disk_full_in_seconds"), base.fullInSec);
  assert.equal(value(known, "corescope_sqlite_disk_size_bytes"), base.sizeBytes);
  assert.equal(value(known, "corescope_sqlite_database_bytes"), base.dbBytes);
  const none = scrape(input(FIX, { facts: { restarts: 0 } }));
  assert.equal(value(none, "corescope_sqlite_disk_size_bytes"), undefined);
  assert.equal(value(none, "corescope_sqlite_database_bytes"), undefined);
  const gone = scrape(input(FIX, {
    sqlite: { walSizeMB: 0, walSize: 9, pageCount: 9, pageSize: 4096, cacheSize: 0, error: "gone" },
  }));
  for (
    const name of [
      "corescope_sqlite_pages",
      "corescope_sqlite_page_size_bytes",
      "corescope_sqlite_wal_size_bytes",
    ]
  ) {
    assert.equal(value(gone, name), undefined, name);
    assert.notEqual(value(known, name), undefined, name);
  }
  const noIo = scrape(input(JSON.stringify({ sampledAt: "2025-11-23T12:00:00Z" })));
  assert.equal(value(noIo, "corescope_ingestor_io_read_bytes_per_second"), undefined);
});

Deno.test("metrics: each one-line family says exactly its state, verdict, version or source", () => {
  const base = input(FIX);
  const t = scrape({
    ...base,
    ioSource: "rusage",
    ioWanted: "procfs",
    version: '1.2\n"3\\\u001b',
    verdicts: {
      ...base.verdicts,
      statsFile: "stale",
      writes: "write_failing",
      clock: "ahead",
      writerLock: "contended",
      database: "checkpoint_starved",
      disk: "low",
    },
  });
  const lines = t.split("\n");
  for (
    const line of [
      'corescope_perf_source_up{source="stats_file"} 1',
      'corescope_perf_source_up{source="database"} 1',
      'corescope_perf_source_up{source="proc_io"} 0',
      'corescope_perf_io_source_info{source="rusage",wanted="procfs"} 1',
      // Line feed, quote and backslash as the format escapes them; any other control as U+FFFD.
      'corescope_perf_build_info{version="1.2\\n\\"3\\\\\uFFFD"} 1',
      'corescope_ingestor_stats_file_state{state="stale"} 1',
      'corescope_ingestor_writes_verdict{verdict="write_failing"} 1',
      'corescope_ingestor_clock_verdict{verdict="ahead"} 1',
      'corescope_ingestor_writer_lock_verdict{verdict="contended"} 1',
      'corescope_sqlite_wal_verdict{verdict="checkpoint_starved"} 1',
      'corescope_sqlite_disk_verdict{verdict="low"} 1',
    ]
  ) assert.ok(lines.includes(line), line);
  const up = scrape(input(FIX, { sqlite: { ...base.sqlite, error: "locked" } }));
  assert.ok(up.split("\n").includes('corescope_perf_source_up{source="database"} 0'));
  assert.ok(up.split("\n").includes('corescope_perf_source_up{source="proc_io"} 1'));
});

Deno.test("metrics: every rate of the ingestor's own I/O under its own name", () => {
  const doc = {
    sampledAt: "2025-11-23T12:00:00Z",
    procIO: {
      readBytesPerSec: 11,
      writeBytesPerSec: 22,
      cancelledWriteBytesPerSec: 33,
      syscallsRead: 44,
      syscallsWrite: 55,
      sampledAt: "2025-11-23T12:00:00Z",
    },
  };
  const lines = scrape(input(JSON.stringify(doc))).split("\n")
    .filter((l) => l.startsWith("corescope_ingestor_io_"));
  assert.deepEqual(lines, [
    "corescope_ingestor_io_read_bytes_per_second 11",
    "corescope_ingestor_io_write_bytes_per_second 22",
    "corescope_ingestor_io_cancelled_write_bytes_per_second 33",
    "corescope_ingestor_io_read_syscalls_per_second 44",
    "corescope_ingestor_io_write_syscalls_per_second 55",
  ]);
});

Deno.test("metrics: writer-lock contentions per component; MQTT sources in name order from any order", () => {
  const perf = (contention: number) => ({
    ...Object.fromEntries(WRITER_PERF_KEYS.map((k) => [k, 1])),
    contention_total: contention,
  });
  const doc = {
    sampledAt: "2025-11-23T12:00:00Z",
    writer_perf: { b: perf(7), a: perf(3) },
    source_statuses: ["mm", "zz", "aa", "qq"].map((name) => ({
      name,
      connected: true,
      lastPacketUnix: 1763899199,
    })),
  };
  const lines = scrape(input(JSON.stringify(doc))).split("\n");
  assert.deepEqual(
    lines.filter((l) => l.startsWith("corescope_ingestor_writer_lock_contentions_total")),
    [
      'corescope_ingestor_writer_lock_contentions_total{component="a"} 3',
      'corescope_ingestor_writer_lock_contentions_total{component="b"} 7',
    ],
  );
  assert.deepEqual(
    lines.filter((l) => l.startsWith("corescope_ingestor_mqtt_connected{")).map((l) =>
      /source="(\w+)"/.exec(l)![1]
    ),
    ["aa", "mm", "qq", "zz"],
  );
});
