import assert from "node:assert/strict";
import {
  COUNTER_NAMES,
  MAX_NAME_CHARS,
  MAX_NAMES,
  parseStatsSnapshot,
  type StatsSnapshot,
} from "../src/inputs/stats_snapshot.ts";
import { fixtureText } from "./_helpers.ts";

function snap(text: string): StatsSnapshot {
  const r = parseStatsSnapshot(text);
  if (!r.ok) throw new Error(r.error);
  return r.snapshot;
}

Deno.test("the fixture parses whole, with no problems", () => {
  const s = snap(fixtureText("2026-11-23T12:00:00Z"));
  assert.deepEqual(s.problems, []);
  assert.equal(s.sampledAt, "2026-11-23T12:00:00Z");
  assert.equal(s.counters.tx_inserted, 1843201);
  assert.equal(s.counters.groupCommitFlushes, 0);
  assert.deepEqual(s.backfillUpdates, { path_json: 12044, from_pubkey: 3310, observer_iata: 0 });
  assert.equal(s.procIO?.syscallsWrite, 210.25);
  assert.equal(s.writerPerf?.neighbor_builder?.hold_ms_max, 1210);
  assert.deepEqual(s.sourceLiveness?.regional, {
    lastReceiptUnix: 1763899198,
    lastMessageUnix: 1763898950,
  });
  assert.equal(s.sourceStatuses?.length, 2);
  assert.equal(s.watchdogLastTickUnix, 1763899180);
});

Deno.test("not a stats object: malformed JSON, null, arrays, numbers, strings", () => {
  for (const text of ["", "{", "null", "[]", "[1,2]", "42", '"x"', "true", "{}{}"]) {
    const r = parseStatsSnapshot(text);
    assert.equal(r.ok, false, text);
  }
});

Deno.test("every field is optional; missing counters read 0 as in Go", () => {
  const s = snap("{}");
  assert.equal(s.counters.tx_inserted, 0);
  assert.equal(s.sampledAt, undefined);
  assert.equal(s.procIO, undefined);
  assert.equal(s.sourceLiveness, undefined);
  assert.deepEqual(s.problems, []);
});

/** A file with a wrong-typed or impossible value in every kind of field. */
const WRONG_TYPED = {
  sampledAt: 5,
  tx_inserted: "12",
  obs_inserted: 7,
  tx_dupes: 1.5,
  node_upserts: 2 ** 60,
  observer_upserts: -3,
  sig_drops: null,
  walCommits: [1],
  groupCommitFlushes: true,
  backfillUpdates: { good: 1, bad: "x" },
  procIO: { readBytesPerSec: "fast", writeBytesPerSec: 10, sampledAt: 1 },
  writer_perf: { a: { count: 1.5, wait_ms_p50: 0.5, hold_ms_p99: -1 }, b: [] },
  source_liveness: {
    ok: { lastReceiptUnix: 1, lastMessageUnix: 2 },
    bad: { lastReceiptUnix: "1" },
    worse: 3,
  },
  source_statuses: [
    { name: "x", connected: "yes", packetsTotal: 3, broker: 1, lastPacketUnix: -5 },
    7,
  ],
  watchdogPanicCount: -1.25,
  watchdogLastTickUnix: {},
};

Deno.test("a wrong-typed field is left out and named; the rest is served", () => {
  const s = snap(JSON.stringify(WRONG_TYPED));
  assert.equal(s.sampledAt, undefined);
  assert.equal(s.counters.tx_inserted, undefined);
  assert.equal(s.counters.obs_inserted, 7);
  assert.equal(s.counters.tx_dupes, undefined);
  assert.equal(s.counters.node_upserts, undefined, "beyond 2^53 is not exact: left out");
  assert.deepEqual(s.backfillUpdates, { good: 1 });
  assert.deepEqual(s.procIO, {
    readBytesPerSec: 0,
    writeBytesPerSec: 10,
    cancelledWriteBytesPerSec: 0,
    syscallsRead: 0,
    syscallsWrite: 0,
  });
  assert.equal(s.writerPerf?.a?.count, 0);
  assert.equal(s.writerPerf?.a?.wait_ms_p50, 0.5);
  assert.equal(s.writerPerf?.b, undefined);
  assert.deepEqual(Object.keys(s.sourceLiveness ?? {}), ["ok"]);
  assert.equal(s.sourceStatuses?.length, 1);
  assert.equal(s.sourceStatuses?.[0]?.connected, false);
  assert.equal(s.sourceStatuses?.[0]?.packetsTotal, 3);
  assert.equal(s.watchdogPanicCount, undefined);
  for (
    const field of [
      "sampledAt",
      "tx_inserted",
      "tx_dupes",
      "node_upserts",
      "backfillUpdates.bad",
      "procIO.readBytesPerSec",
      "procIO.sampledAt",
      "writer_perf.a.count",
      "writer_perf.b",
      "source_liveness.bad.lastReceiptUnix",
      "source_statuses[0].connected",
      "source_statuses[1]",
      "watchdogPanicCount",
    ]
  ) {
    assert.ok(s.problems.some((p) => p.startsWith(`${field}:`)), `${field} not named`);
  }
});

Deno.test("sections of the wrong shape are absent, not fatal", () => {
  const s = snap(JSON.stringify({
    tx_inserted: 1,
    procIO: [],
    writer_perf: "x",
    source_liveness: null,
    source_statuses: {},
    backfillUpdates: 3,
  }));
  assert.equal(s.counters.tx_inserted, 1);
  for (const k of ["procIO", "writerPerf", "sourceLiveness", "sourceStatuses", "backfillUpdates"]) {
    assert.equal((s as unknown as Record<string, unknown>)[k], undefined, k);
  }
  assert.equal(s.problems.length, 5);
});

Deno.test("every string and key that leaves is masked, names and map keys included", () => {
  const url = "mqtt://u:topsecret@h:1883";
  const s = snap(JSON.stringify({
    source_liveness: { [url]: { lastReceiptUnix: 1, lastMessageUnix: 1 } },
    writer_perf: { [url]: {} },
    backfillUpdates: { [url]: 1 },
    source_statuses: [{ name: url, broker: url, lastError: `dial ${url}: refused` }],
  }));
  assert.ok(!JSON.stringify(s).includes("topsecret"), JSON.stringify(s));
  assert.ok(JSON.stringify(s).includes("mqtt://u:****@h:1883"));
});

Deno.test("an empty lastError is omitted, as Go's omitempty does", () => {
  const s = snap(JSON.stringify({ source_statuses: [{ name: "a", lastError: "" }] }));
  assert.equal("lastError" in (s.sourceStatuses?.[0] ?? {}), false);
});

Deno.test("deep nesting parses without a stack overflow", () => {
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  const r = parseStatsSnapshot(`{"procIO": ${deep}, "tx_inserted": 4}`);
  assert.ok(r.ok);
  assert.equal(r.snapshot.counters.tx_inserted, 4);
  assert.equal(r.snapshot.procIO, undefined);
});

Deno.test("JSON parse errors are masked before they reach a log", () => {
  const r = parseStatsSnapshot('{"broker": "mqtt://u:leakme@h:1" ,,}');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && !r.error.includes("leakme"), !r.ok ? r.error : "");
});

// A test-only package, kept out of deno.json so `deno compile` never embeds it.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@4.10.2";

function assertWellTyped(s: StatsSnapshot): void {
  for (const v of Object.values(s.counters)) assert.ok(Number.isSafeInteger(v));
  for (const v of Object.values(s.backfillUpdates ?? {})) assert.ok(Number.isSafeInteger(v));
  if (s.sampledAt !== undefined) assert.equal(typeof s.sampledAt, "string");
  if (s.procIO) {
    for (const v of Object.values(s.procIO)) {
      assert.ok(typeof v === "string" || Number.isFinite(v));
    }
  }
  for (const w of Object.values(s.writerPerf ?? {})) {
    for (const v of Object.values(w)) assert.ok(Number.isFinite(v));
  }
  for (const l of Object.values(s.sourceLiveness ?? {})) {
    assert.ok(Number.isSafeInteger(l.lastReceiptUnix) && Number.isSafeInteger(l.lastMessageUnix));
  }
  for (const row of s.sourceStatuses ?? []) {
    assert.equal(typeof row.name, "string");
    assert.equal(typeof row.connected, "boolean");
    assert.ok(Number.isSafeInteger(row.packetsTotal));
  }
  assert.ok(Array.isArray(s.problems));
}

Deno.test("property: any text gives a typed snapshot or a typed error, never a throw", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
      const r = parseStatsSnapshot(text);
      if (r.ok) assertWellTyped(r.snapshot);
      else assert.equal(typeof r.error, "string");
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: any JSON in any field gives a well-typed snapshot", () => {
  const field = fc.constantFrom(
    ...COUNTER_NAMES,
    "sampledAt",
    "backfillUpdates",
    "procIO",
    "writer_perf",
    "source_liveness",
    "source_statuses",
    "watchdogLastTickUnix",
    "watchdogPanicCount",
  );
  fc.assert(
    fc.property(fc.dictionary(field, fc.jsonValue({ maxDepth: 4 })), (doc) => {
      const r = parseStatsSnapshot(JSON.stringify(doc));
      assert.ok(r.ok);
      assertWellTyped(r.snapshot);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("a JSON parse error says where, never what: no byte of the file is echoed", () => {
  const r = parseStatsSnapshot('{"a": 1, "secretword": tru}');
  assert.ok(!r.ok);
  assert.match(r.error, /^not valid JSON( at byte \d+)?$/);
  assert.ok(!r.error.includes("secretword") && !r.error.includes("tru"), r.error);
});

Deno.test("two sources whose names differ only in their password stay two entries", () => {
  const r = parseStatsSnapshot(JSON.stringify({
    source_liveness: {
      "mqtt://u:one@h:1": { lastReceiptUnix: 1, lastMessageUnix: 1 },
      "mqtt://u:two@h:1": { lastReceiptUnix: 2, lastMessageUnix: 2 },
    },
  }));
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.snapshot.sourceLiveness!), [
    "mqtt://u:****@h:1",
    "mqtt://u:****@h:1 (2)",
  ]);
});

Deno.test("names are capped: 64 entries per map or list, names cut to 128 characters, free text to 512, and `truncated` says what was cut", () => {
  const doc = JSON.parse(fixtureText("2026-11-23T12:00:00Z"));
  const many = <T>(f: (i: number) => T) =>
    Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`n${i}`, f(i)]));
  doc.backfillUpdates = many(() => 1);
  doc.writer_perf = many(() => ({ count: 1 }));
  doc.source_liveness = many(() => ({ lastReceiptUnix: 1, lastMessageUnix: 1 }));
  doc.source_statuses = Array.from({ length: 70 }, (_, i) => ({
    name: i === 0 ? "x".repeat(300) : `s${i}`,
    broker: "tcp://h:1883",
    lastError: i === 0 ? "e".repeat(2000) : "",
  }));
  const p = parseStatsSnapshot(JSON.stringify(doc));
  assert.ok(p.ok);
  const s = p.snapshot;
  assert.equal(Object.keys(s.backfillUpdates!).length, MAX_NAMES);
  assert.equal(Object.keys(s.writerPerf!).length, MAX_NAMES);
  assert.equal(Object.keys(s.sourceLiveness!).length, MAX_NAMES);
  assert.equal(s.sourceStatuses!.length, MAX_NAMES);
  assert.equal(MAX_NAMES, 64);
  assert.equal(MAX_NAME_CHARS, 128);
  const first = s.sourceStatuses!.find((r) => r.name.startsWith("xxx"))!;
  assert.ok(first.name.length <= 129, `name of ${first.name.length} characters`);
  assert.ok(first.lastError!.length <= 513, `lastError of ${first.lastError!.length} characters`);
  assert.deepEqual(s.truncated.length, 4);
  for (const t of s.truncated) assert.match(t, /: kept 64 of 70 entries$/);
});

const MARKUP = ["<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"];

Deno.test("markup in a write-source name or a stamp never reaches a body: left out, named in problems", () => {
  for (const evil of MARKUP) {
    const s = snap(JSON.stringify({
      sampledAt: evil,
      tx_inserted: 1,
      backfillUpdates: { path_json: 3, [evil]: 7, [`ok_${evil}`]: 9 },
      procIO: { readBytesPerSec: 1, sampledAt: evil },
      writer_perf: { mqtt_handler: { count: 1 }, [evil]: { count: 2 } },
    }));
    const out = JSON.stringify(s);
    assert.ok(!out.includes("<"), out);
    assert.deepEqual(Object.keys(s.backfillUpdates!), ["path_json"]);
    assert.deepEqual(Object.keys(s.writerPerf!), ["mqtt_handler"]);
    assert.equal(s.sampledAt, undefined);
    assert.equal(s.procIO?.sampledAt, undefined);
    assert.equal(s.stampMs, "bad", "a stamp that is no time is not fresh");
    assert.deepEqual(s.problems.sort(), [
      "backfillUpdates: 2 name(s) outside [A-Za-z0-9_.-] left out",
      "procIO.sampledAt: expected an RFC 3339 time, got a string",
      "sampledAt: expected an RFC 3339 time, got a string",
      "writer_perf: 1 name(s) outside [A-Za-z0-9_.-] left out",
    ]);
  }
});

Deno.test("a stamp is kept as written only when it is an RFC 3339 time, of any offset and fraction", () => {
  for (const at of ["2026-11-23T12:00:00Z", "2026-11-23T13:00:00.123456789+01:00"]) {
    const s = snap(JSON.stringify({ sampledAt: at, procIO: { sampledAt: at } }));
    assert.equal(s.sampledAt, at);
    assert.equal(s.procIO?.sampledAt, at);
    assert.equal(s.stampMs, Date.parse("2026-11-23T12:00:00Z") + (at.includes(".") ? 123 : 0));
  }
  // A top-level stamp that is no time is not rescued by procIO's.
  const s = snap(
    JSON.stringify({ sampledAt: "now", procIO: { sampledAt: "2026-11-23T12:00:00Z" } }),
  );
  assert.equal(s.stampMs, "bad");
  // Too long to be a stamp: not parsed at all (a 256 KiB field costs nothing).
  const long = snap(JSON.stringify({ sampledAt: `2026-11-23T12:00:00Z${" ".repeat(100_000)}` }));
  assert.equal(long.sampledAt, undefined);
});

Deno.test("what cannot be is refused and named: a negative counter, rate, stamp or duration", () => {
  const s = snap(JSON.stringify({
    tx_inserted: -5,
    write_errors: -1,
    backfillUpdates: { path_json: -3 },
    procIO: { readBytesPerSec: -2 },
    writer_perf: { mqtt_handler: { count: -1, wait_ms_p99: -0.5 } },
    source_liveness: { local: { lastReceiptUnix: -1, lastMessageUnix: 1 } },
    source_statuses: [{ name: "local", packetsTotal: -9 }],
    watchdogPanicCount: -4,
  }));
  assert.equal(s.counters.tx_inserted, undefined);
  assert.equal(s.counters.write_errors, undefined);
  assert.deepEqual(s.backfillUpdates, {});
  assert.equal(s.procIO?.readBytesPerSec, 0);
  assert.equal(s.writerPerf?.mqtt_handler?.count, 0);
  assert.equal(s.writerPerf?.mqtt_handler?.wait_ms_p99, 0);
  assert.equal(s.sourceLiveness?.local, undefined);
  assert.equal(s.sourceStatuses?.[0]?.packetsTotal, 0);
  assert.equal(s.watchdogPanicCount, undefined);
  assert.equal(s.problems.length, 9, s.problems.join("; "));
  for (const p of s.problems) {
    assert.match(p, /expected a non-negative (integer|number), got a negative number/);
  }
  // Zero is a count like any other.
  assert.deepEqual(snap('{"tx_inserted": 0}').problems, []);
});

Deno.test("control characters in names and text leave as U+FFFD, the names still distinct", () => {
  const s = snap(JSON.stringify({
    source_liveness: { "a\u001b[2J": {}, "a\r": {}, "a\u0000": {} },
    source_statuses: [{ name: "x", broker: "mqtt://h\u009b31m", lastError: "e\nf" }],
  }));
  const names = Object.keys(s.sourceLiveness!);
  assert.deepEqual(names.sort(), ["a\uFFFD", "a\uFFFD (2)", "a\uFFFD[2J"]);
  assert.equal(s.sourceStatuses?.[0]?.broker, "mqtt://h\uFFFD31m");
  assert.equal(s.sourceStatuses?.[0]?.lastError, "e\uFFFDf");
});

Deno.test("each problem names its field, what was expected and what came, in the file's order", () => {
  const s = snap(JSON.stringify(WRONG_TYPED));
  assert.deepEqual(s.problems, [
    "sampledAt: expected an RFC 3339 time, got a number",
    "tx_inserted: expected a non-negative integer, got a string",
    "tx_dupes: expected a non-negative integer, got a number",
    "node_upserts: expected a non-negative integer, got an integer beyond 2^53",
    "observer_upserts: expected a non-negative integer, got a negative number",
    "sig_drops: expected a non-negative integer, got null",
    "walCommits: expected a non-negative integer, got an array",
    "groupCommitFlushes: expected a non-negative integer, got a boolean",
    "backfillUpdates.bad: expected a non-negative integer, got a string",
    "procIO.readBytesPerSec: expected a non-negative number, got a string",
    "procIO.sampledAt: expected an RFC 3339 time, got a number",
    "writer_perf.a.count: expected a non-negative integer, got a number",
    "writer_perf.a.hold_ms_p99: expected a non-negative number, got a negative number",
    "writer_perf.b: expected an object, got an array",
    "source_liveness.bad.lastReceiptUnix: expected a non-negative integer, got a string",
    "source_liveness.worse: expected an object, got a number",
    "source_statuses[0].broker: expected a string, got a number",
    "source_statuses[0].connected: expected a boolean, got a string",
    "source_statuses[0].lastPacketUnix: expected a non-negative integer, got a negative number",
    "source_statuses[1]: expected an object, got a number",
    "watchdogLastTickUnix: expected a non-negative integer, got an object",
    "watchdogPanicCount: expected a non-negative integer, got a negative number",
  ]);
  // Sections that are not objects or lists, by name.
  const shapes = snap(JSON.stringify({
    backfillUpdates: [],
    procIO: "x",
    writer_perf: 1,
    source_liveness: null,
    source_statuses: {},
  }));
  assert.deepEqual(shapes.problems, [
    "backfillUpdates: expected an object, got an array",
    "procIO: expected an object, got a string",
    "writer_perf: expected an object, got a number",
    "source_liveness: expected an object, got null",
    "source_statuses: expected an array, got an object",
  ]);
});

Deno.test("not a stats object, each error exactly: where JSON broke, or what the top level is", () => {
  const cases: [string, string][] = [
    ["", "not valid JSON"],
    ["{", "not valid JSON at byte 1"],
    ['{"aaaaaaaaaaaaaaaa": 1,}', "not valid JSON at byte 23"],
    ["null", "top level is null, not an object"],
    ["[]", "top level is an array, not an object"],
    ["42", "top level is a number, not an object"],
    ['"x"', "top level is a string, not an object"],
    ["true", "top level is a boolean, not an object"],
  ];
  for (const [text, error] of cases) {
    assert.deepEqual(parseStatsSnapshot(text), { ok: false, error });
  }
});

Deno.test("stamps: none, an empty one is none, the top one first, procIO's when alone", () => {
  const at = "2026-11-23T12:00:00Z", ms = Date.parse(at);
  const later = "2026-11-23T12:00:05Z";
  assert.equal(snap("{}").stampMs, "none");
  const empty = snap(JSON.stringify({ sampledAt: "", procIO: { sampledAt: at } }));
  assert.deepEqual([empty.stampMs, empty.problems], [ms, []]);
  assert.equal(snap(JSON.stringify({ sampledAt: at })).stampMs, ms);
  const both = snap(JSON.stringify({ sampledAt: at, procIO: { sampledAt: later } }));
  assert.equal(both.stampMs, ms);
});

Deno.test("omitted counters are listed by name; sources are keyed in sorted order", () => {
  assert.equal(
    snap(JSON.stringify(Object.fromEntries(COUNTER_NAMES.map((n) => [n, 1])))).omitted,
    undefined,
  );
  assert.deepEqual(snap('{"tx_inserted": 1}').omitted, COUNTER_NAMES.slice(1));
  const s = snap(JSON.stringify({ walCommits: 2, backfillUpdates: { zz: 1, aa: 2 } }));
  assert.deepEqual(Object.keys(s.sources), [...Object.keys(s.sources)].sort());
  assert.equal(Object.keys(s.sources)[0], "backfill_aa");
});

Deno.test("64 entries exactly are all kept and nothing is said; the 65th is cut and named", () => {
  const map = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`n${i}`, { lastReceiptUnix: 1 }]));
  const list = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `n${i}` }));
  const full = snap(
    JSON.stringify({ source_liveness: map(MAX_NAMES), source_statuses: list(MAX_NAMES) }),
  );
  assert.deepEqual(full.truncated, []);
  assert.equal(Object.keys(full.sourceLiveness!).length, MAX_NAMES);
  const over = snap(JSON.stringify({ source_liveness: map(65), source_statuses: list(65) }));
  assert.deepEqual(over.truncated, [
    "source_liveness: kept 64 of 65 entries",
    "source_statuses: kept 64 of 65 entries",
  ]);
});

Deno.test("names equal once masked get (2), (3) by their raw order, whatever order they come in", () => {
  const row = (pw: string) => ({ name: `mqtt://u:${pw}@h`, connected: true });
  const s = snap(JSON.stringify({ source_statuses: [row("c"), row("a"), row("b")] }));
  assert.deepEqual(s.sourceStatuses!.map((r) => r.name), [
    "mqtt://u:****@h (3)",
    "mqtt://u:****@h",
    "mqtt://u:****@h (2)",
  ]);
});

Deno.test("a write-source name must be plain from its first character to its last", () => {
  const s = snap(JSON.stringify({ backfillUpdates: { "<b>ok": 1, "ok<b>": 2, fine: 3 } }));
  assert.deepEqual(s.backfillUpdates, { fine: 3 });
  assert.deepEqual(s.problems, ["backfillUpdates: 2 name(s) outside [A-Za-z0-9_.-] left out"]);
});

Deno.test("stats file: a rate of 1e999 (JSON's infinity) and a fractional contention count are named problems", () => {
  const s = snap(
    JSON.stringify({ sampledAt: "2025-11-23T12:00:00Z" }).replace(
      "}",
      ',"procIO":{"readBytesPerSec":1e999},"writer_perf":{"w":{"count":1,"contention_total":1.5}}}',
    ),
  );
  assert.equal(s.procIO?.readBytesPerSec, 0);
  assert.equal(s.writerPerf?.w?.contention_total, 0);
  assert.deepEqual(s.problems, [
    "procIO.readBytesPerSec: expected a non-negative number, got a number",
    "writer_perf.w.contention_total: expected a non-negative integer, got a number",
  ]);
});

Deno.test("stats file: a zero where a string belongs is 'a number', not 'a negative number'", () => {
  const s = snap(JSON.stringify({ source_statuses: [{ name: 0 }] }));
  assert.deepEqual(s.problems, ["source_statuses[0].name: expected a string, got a number"]);
});

Deno.test("stats file: procIO without a stamp, or with an empty one, is no problem; a stamp of the wrong type is one", () => {
  const rates = { readBytesPerSec: 1 };
  assert.deepEqual(snap(JSON.stringify({ procIO: rates })).problems, []);
  assert.deepEqual(snap(JSON.stringify({ procIO: { ...rates, sampledAt: "" } })).problems, []);
  for (const [bad, got] of [[null, "null"], [7, "a number"], [{}, "an object"]] as const) {
    assert.deepEqual(
      snap(JSON.stringify({ procIO: { ...rates, sampledAt: bad } })).problems,
      [`procIO.sampledAt: expected an RFC 3339 time, got ${got}`],
    );
  }
});

Deno.test("stats file: source rows without a name, or with equal ones, stay distinct rows, suffixed in file order", () => {
  const rows = (list: unknown[]) =>
    snap(JSON.stringify({ source_statuses: list })).sourceStatuses!.map((r) =>
      `${r.name}|${r.broker}`
    );
  assert.deepEqual(rows([{ connected: true }]), ["|"], "no name, no broker: empty, not made up");
  assert.deepEqual(rows([{ broker: "tcp://a" }, { name: "" }]), ["|tcp://a", " (2)|"]);
  assert.deepEqual(rows([{ name: "" }, { name: "" }]), ["|", " (2)|"]);
  assert.deepEqual(
    rows([{ name: "x", broker: "a" }, { name: "x", broker: "b" }, {
      name: "x",
      broker: "c",
    }]),
    ["x|a", "x (2)|b", "x (3)|c"],
  );
});
