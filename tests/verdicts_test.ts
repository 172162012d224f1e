import assert from "node:assert/strict";
import type { ReadFailureKind } from "../src/base/safe_read.ts";
import type { StatsState } from "../src/inputs/stats_cache.ts";
import { parseStatsSnapshot } from "../src/inputs/stats_snapshot.ts";
import { judgeIngest, sourceVerdict, statsFileVerdict } from "../src/judge/verdicts.ts";

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

const POLICY = {
  staleAfterMs: 5000,
  clockSkewMs: 2000,
  receiptStaleAfterSec: 60,
  writeStaleAfterSec: 120,
  writeWindowSec: 30,
  walResetStaleAfterSec: 120,
};

function state(doc: Record<string, unknown>): StatsState {
  const p = parseStatsSnapshot(JSON.stringify(doc));
  assert.ok(p.ok);
  return { kind: "ok", version: 1, snapshot: p.snapshot };
}

const STAMP = new Date(NOW * 1000).toISOString();

Deno.test("judgeIngest: summary; a degraded ingest is reported, a missing file is down", () => {
  const live = {
    b: { lastReceiptUnix: NOW, lastMessageUnix: NOW },
    a: { lastReceiptUnix: 0, lastMessageUnix: 0 },
  };
  const at = NOW * 1000;
  assert.deepEqual(
    judgeIngest(state({ sampledAt: STAMP, source_liveness: live }), at, POLICY, { restarts: 0 }),
    {
      status: "ok",
      statsFile: "fresh",
      sources: { a: "never", b: "ok" },
      writes: "unknown",
      database: "ok",
      clock: "ok",
    },
  );
  const old = state({ sampledAt: "2020-01-01T00:00:00Z", source_liveness: live });
  assert.equal(judgeIngest(old, at, POLICY, { restarts: 0 }).status, "down");
  const stalled = { b: { lastReceiptUnix: NOW, lastMessageUnix: 1 } };
  const s = state({ sampledAt: STAMP, source_liveness: stalled });
  assert.equal(judgeIngest(s, at, POLICY, { restarts: 0 }).status, "degraded");
  const gone: StatsState = { kind: "unavailable", version: 1, reason: "missing", detail: "" };
  assert.equal(judgeIngest(gone, at, POLICY, { restarts: 0 }).status, "down");
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
