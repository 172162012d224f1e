import assert from "node:assert/strict";
import { splice } from "../tools/perf_doc.ts";

/** A report shaped as `deno task bench` writes it. */
const REPORT = [
  "# corescope-perf bench, T",
  "",
  "## Idle",
  "RSS idle: 56 MiB",
  "CPU idle, over 30 s: 3 ms a second",
  "",
  "## CPU per request",
  "",
  "| endpoint | ratio |",
  "| /metrics | 0.6 |",
  "",
  "stats file: 1 opens",
  "RSS growth after 9 requests: +0.1 MiB",
  "",
  "## Heap at idle (after a full collection)",
  "heap lines",
  "## CPU profile at idle (10 s)",
  "idle lines",
  "## CPU profile: /api/healthz (x)",
  "healthz lines",
  "## CPU profile: /api/perf/sqlite (x)",
  "sqlite lines",
  "## CPU profile: /api/perf/sqlite-like (x)",
  "not these",
  "## CPU profile: /metrics (x)",
  "metrics lines",
  "## Startup",
  "startup to first 200: 183 ms",
  "",
  "stats file of 32000 names: met",
].join("\n");

const marked = (name: string, body = "old") =>
  `<!-- bench:${name} -->\n${body}\n<!-- /bench:${name} -->`;

Deno.test("perf-doc replaces each marked part with the same part of the report, and nothing else", () => {
  const doc = ["# Performance", "prose before", marked("table"), "prose between", marked("figures")]
    .join("\n");
  const out = splice(doc, REPORT, ["table", "figures"]);
  assert.equal(
    out,
    [
      "# Performance",
      "prose before",
      "<!-- bench:table -->\n\n| endpoint | ratio |\n| /metrics | 0.6 |\n\n<!-- /bench:table -->",
      "prose between",
      "<!-- bench:figures -->\n\n```\nRSS idle: 56 MiB\nCPU idle, over 30 s: 3 ms a second\n" +
      "stats file: 1 opens\nRSS growth after 9 requests: +0.1 MiB\n" +
      "startup to first 200: 183 ms\nstats file of 32000 names: met\n```\n\n" +
      "<!-- /bench:figures -->",
    ].join("\n"),
  );
  assert.equal(splice(out, REPORT, ["table", "figures"]), out, "a second run changes nothing");
});

Deno.test("perf-doc copies a section up to the next, a level down, and only the one it names", () => {
  const out = splice(marked("sqlite"), REPORT, ["sqlite"]);
  assert.equal(
    out,
    "<!-- bench:sqlite -->\n\n### CPU profile: /api/perf/sqlite (x)\nsqlite lines\n\n" +
      "<!-- /bench:sqlite -->",
  );
  const all = ["table", "figures", "idle", "heap", "healthz", "sqlite", "metrics"];
  const whole = splice(all.map((n) => marked(n)).join("\n"), REPORT);
  for (const n of ["heap lines", "idle lines", "healthz lines", "metrics lines"]) {
    assert.ok(whole.includes(n), n);
  }
  assert.ok(!whole.includes("not these") && !whole.includes("old"));
});

Deno.test("perf-doc refuses a document without the markers, or a report without the part", () => {
  assert.throws(() => splice("no markers", REPORT, ["table"]), /no <!-- bench:table -->/);
  assert.throws(
    () => splice("<!-- /bench:table --> <!-- bench:table -->", REPORT, ["table"]),
    /no <!-- bench:table -->/,
  );
  assert.throws(() => splice(marked("heap"), "# empty report", ["heap"]), /no "## Heap at idle"/);
});
