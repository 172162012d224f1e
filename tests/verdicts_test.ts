import assert from "node:assert/strict";
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

Deno.test("ingestVerdicts: file verdict and summary; a degraded ingest is reported, not fatal", () => {
  const ok = { kind: "ok" as const, version: 1, snapshot: { counters: {}, problems: [] } };
  const live = {
    b: { lastReceiptUnix: NOW, lastMessageUnix: NOW },
    a: { lastReceiptUnix: 0, lastMessageUnix: 0 },
  };
  assert.deepEqual(ingestVerdicts(ok, { fresh: true }, live, NOW, T), {
    status: "ok",
    statsFile: "fresh",
    sources: { a: "never", b: "ok" },
  });
  assert.equal(ingestVerdicts(ok, { fresh: false }, live, NOW, T).statsFile, "stale");
  assert.equal(ingestVerdicts(ok, { fresh: false }, live, NOW, T).status, "degraded");
  const stalled = { b: { lastReceiptUnix: NOW, lastMessageUnix: 1 } };
  assert.equal(ingestVerdicts(ok, { fresh: true }, stalled, NOW, T).status, "degraded");
  const missing = {
    kind: "unavailable" as const,
    version: 2,
    reason: "missing" as const,
    detail: "",
  };
  assert.equal(ingestVerdicts(missing, { fresh: false }, undefined, NOW, T).statsFile, "missing");
});
