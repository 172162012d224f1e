import assert from "node:assert/strict";
import { freshnessOf, judgeFreshness } from "../src/judge/freshness.ts";
import { parseRfc3339 } from "../src/base/rfc3339.ts";
import { parseStatsSnapshot, type StatsSnapshot } from "../src/inputs/stats_snapshot.ts";

const POLICY = { staleAfterMs: 5000, clockSkewMs: 2000 };
const T0 = Date.parse("2026-11-23T12:00:00Z");
const io = (sampledAt?: string) => ({
  readBytesPerSec: 0,
  writeBytesPerSec: 0,
  cancelledWriteBytesPerSec: 0,
  syscallsRead: 0,
  syscallsWrite: 0,
  ...(sampledAt === undefined ? {} : { sampledAt }),
});
/** A snapshot as the parser makes it from a file holding `doc`. */
const snap = (doc: Record<string, unknown>): StatsSnapshot => {
  const r = parseStatsSnapshot(JSON.stringify(doc));
  assert.ok(r.ok);
  return r.snapshot;
};

Deno.test("parseRfc3339 accepts what Go's RFC3339 accepts", () => {
  assert.equal(parseRfc3339("2026-11-23T12:00:00Z"), T0);
  assert.equal(parseRfc3339("2026-11-23T12:00:00.250Z"), T0 + 250);
  assert.equal(parseRfc3339("2026-11-23T13:30:00+01:30"), T0);
  assert.equal(parseRfc3339("2026-11-23T10:00:00-02:00"), T0);
});

Deno.test("parseRfc3339 rejects other shapes and impossible dates", () => {
  for (
    const s of [
      "",
      "2026-11-23",
      "2026-11-23 12:00:00Z",
      "2026-11-23T12:00:00",
      "1763899199",
      "2026-13-01T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-11-23T24:00:00Z",
      "Mon, 23 Nov 2026 12:00:00 GMT",
    ]
  ) assert.equal(parseRfc3339(s), undefined, s);
});

Deno.test("one effective stamp, parsed once per version: top level, else procIO's", () => {
  const B = "2026-11-23T12:00:01Z";
  assert.equal(snap({ sampledAt: "2026-11-23T12:00:00Z", procIO: io(B) }).stampMs, T0);
  assert.equal(snap({ sampledAt: "", procIO: io(B) }).stampMs, T0 + 1000);
  assert.equal(snap({ procIO: io() }).stampMs, "none");
  assert.equal(snap({ sampledAt: "soon" }).stampMs, "bad");
});

Deno.test("judgeFreshness: fresh up to staleAfterMs, stale after", () => {
  const s = snap({ sampledAt: "2026-11-23T12:00:00Z" });
  assert.deepEqual(judgeFreshness(s, T0 + 5000, POLICY), { fresh: true, ageSec: 5 });
  assert.deepEqual(judgeFreshness(s, T0 + 5001, POLICY), {
    fresh: false,
    ageSec: 5.001,
    reason: "too_old",
  });
});

Deno.test("judgeFreshness: the inner stamp is judged the same way (a stale inner stamp is stale)", () => {
  const s = snap({ procIO: io("2026-11-23T12:00:00Z") });
  assert.equal(judgeFreshness(s, T0 + 60_000, POLICY).fresh, false);
});

Deno.test("judgeFreshness: a future stamp within the skew counts as now, beyond it is not fresh", () => {
  const s = snap({ sampledAt: "2026-11-23T12:00:00Z" });
  assert.deepEqual(judgeFreshness(s, T0 - 2000, POLICY), { fresh: true, ageSec: 0 });
  assert.deepEqual(judgeFreshness(s, T0 - 2001, POLICY), {
    fresh: false,
    ageSec: -2.001,
    reason: "in_future",
  });
});

Deno.test("judgeFreshness: missing or unparseable stamps are not fresh, and have no age", () => {
  assert.deepEqual(judgeFreshness(snap({}), T0, POLICY), { fresh: false, reason: "no_timestamp" });
  assert.deepEqual(judgeFreshness(snap({ sampledAt: "soon" }), T0, POLICY), {
    fresh: false,
    reason: "bad_timestamp",
  });
  assert.equal(
    judgeFreshness(snap({ sampledAt: "soon", procIO: io("2026-11-23T12:00:00Z") }), T0, POLICY)
      .reason,
    "bad_timestamp",
    "a non-empty top-level stamp wins even when it does not parse",
  );
});

Deno.test("freshnessOf: a snapshot is judged by its stamp; anything else is not fresh, no age", () => {
  const s = snap({ sampledAt: "2026-11-23T12:00:00Z" });
  const ok = { kind: "ok", version: 1, snapshot: s } as const;
  assert.deepEqual(freshnessOf(ok, T0 + 1000, POLICY), { fresh: true, ageSec: 1 });
  for (const reason of ["missing", "invalid", "too_large"] as const) {
    const gone = { kind: "unavailable", version: 1, reason, detail: "" } as const;
    assert.deepEqual(freshnessOf(gone, T0, POLICY), { fresh: false }, reason);
  }
});
