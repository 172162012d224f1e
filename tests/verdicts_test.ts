import assert from "node:assert/strict";
import type { ReadFailureKind } from "../src/safe_read.ts";
import { statsFileVerdict, type StatsState } from "../src/stats_cache.ts";
import { parseStatsSnapshot } from "../src/stats_snapshot.ts";
import { ingestVerdicts, sourceVerdict } from "../src/verdicts.ts";

const T = { receiptStaleAfterSec: 60, writeStaleAfterSec: 120 };
const NOW = 10_000;

Deno.test("sourceVerdict: the four verdicts", () => {
  assert.equal(sourceVerdict({ lastReceiptUnix: 0, lastMessageUnix: 0 }, NOW, T), "never");
  assert.equal(sourceVerdict({ lastReceiptUnix: NOW - 1, lastMessageUnix: NOW - 1 }, NOW, T), "ok");
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 1, lastMessageUnix: NOW - 500 }, NOW, T),
    "write_stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 500, lastMessageUnix: NOW - 500 }, NOW, T),
    "stalled",
  );
});

Deno.test("sourceVerdict: thresholds are inclusive and separate for the two clocks", () => {
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 60, lastMessageUnix: NOW - 120 }, NOW, T),
    "ok",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 60, lastMessageUnix: NOW - 121 }, NOW, T),
    "write_stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW - 61, lastMessageUnix: NOW - 121 }, NOW, T),
    "stalled",
  );
  assert.equal(
    sourceVerdict({ lastReceiptUnix: NOW, lastMessageUnix: 0 }, NOW, T),
    "write_stalled",
    "received, never written",
  );
});

Deno.test("ingestVerdicts: summary; a degraded ingest is reported, not fatal", () => {
  const live = {
    b: { lastReceiptUnix: NOW, lastMessageUnix: NOW },
    a: { lastReceiptUnix: 0, lastMessageUnix: 0 },
  };
  assert.deepEqual(ingestVerdicts("fresh", live, NOW, T), {
    status: "ok",
    statsFile: "fresh",
    sources: { a: "never", b: "ok" },
  });
  assert.equal(ingestVerdicts("stale", live, NOW, T).status, "degraded");
  const stalled = { b: { lastReceiptUnix: NOW, lastMessageUnix: 1 } };
  assert.equal(ingestVerdicts("fresh", stalled, NOW, T).status, "degraded");
  assert.equal(ingestVerdicts("missing", undefined, NOW, T).status, "degraded");
});

Deno.test("statsFileVerdict: missing, invalid (a directory, bad JSON), stale, fresh", () => {
  const un = (reason: ReadFailureKind | "invalid"): StatsState => ({
    kind: "unavailable",
    version: 1,
    reason,
    detail: "",
  });
  assert.equal(statsFileVerdict(un("missing"), { fresh: false }), "missing");
  for (const r of ["not_regular", "symlink", "too_large", "invalid", "permission"] as const) {
    assert.equal(statsFileVerdict(un(r), { fresh: false }), "invalid", r);
  }
  const p = parseStatsSnapshot("{}");
  assert.ok(p.ok);
  const ok: StatsState = { kind: "ok", version: 1, snapshot: p.snapshot };
  assert.equal(statsFileVerdict(ok, { fresh: false }), "stale");
  assert.equal(statsFileVerdict(ok, { fresh: true }), "fresh");
});
