/**
 * The README's failure table, row by row: the simulated ingestor is driven through each real
 * failure (as CoreScope's ingestor shows it in its stats file and database), and the service
 * must give the verdict, the log line, the metric and an alert rule for it, within the time
 * the table states. Time is simulated: one step is one second of the ingestor's clock and
 * the service's, so the rows that take minutes run in a moment.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createHandler } from "../src/http/routes.ts";
import { type Config, DEFAULTS } from "../src/app/config.ts";
import { createRuntime } from "../src/app/runtime.ts";
import { createSimulator } from "../tools/simulator.ts";
import { captureLogger, tempDir } from "./_helpers.ts";

const RULES = Deno.readTextFileSync(
  new URL("../deploy/prometheus/corescope-perf.rules.yml", import.meta.url),
);

/** A simulator and the service over the same files, on one simulated clock. */
function rehearsal(over: Partial<Config> = {}, sim: { payloadBytes?: number } = {}) {
  const dir = tempDir();
  let t = Date.parse("2026-12-03T12:00:00Z");
  const statsPath = dir.path("s.json"), dbPath = dir.path("m.db");
  const ingestor = createSimulator({ statsPath, dbPath, now: () => t, txPerTick: 8, ...sim });
  ingestor.tick();
  const log = captureLogger();
  const rt = createRuntime({ ...DEFAULTS, statsPath, dbPath, ...over }, log, {
    now: () => t,
    mono: () => t,
    historyIntervalMs: 0,
  });
  const handler = createHandler(rt.services);
  const get = async (path: string) =>
    await (await handler(
      new Request(`http://localhost${path}`, { headers: { host: "localhost" } }),
    ))
      .text();
  let stopped = false;
  return {
    dir,
    sim: ingestor,
    log,
    /** One second passes: the ingestor ticks (unless stopped), the service samples. */
    step(n = 1) {
      for (let i = 0; i < n; i++) {
        t += 1000;
        if (!stopped) ingestor.tick();
        rt.sample();
      }
    },
    /** Seconds until `cond` holds, stepping at most `max` times; fails past that. */
    async stepsUntil(cond: () => Promise<boolean>, max: number, what: string) {
      for (let s = 0; s <= max; s++) {
        if (await cond()) return s;
        this.step();
      }
      throw new Error(`${what}: not within ${max} s`);
    },
    crash() {
      stopped = true;
    },
    healthz: async () => JSON.parse(await get("/api/healthz")).ingest,
    metrics: () => get("/metrics"),
    logged: (re: RegExp) => log.lines.some((l) => re.test(l)),
    [Symbol.dispose]() {
      rt.close();
      ingestor.stop();
      dir[Symbol.dispose]();
    },
  };
}

/** The metric line `series 1` is in the scrape. */
const has = (text: string, series: string) => text.split("\n").includes(`${series} 1`);

/** The shipped rules hold an alert on exactly this expression. */
function alertOn(name: string, expr: string) {
  const block = RULES.split("- alert: ").find((b) => b.startsWith(`${name}\n`));
  assert.ok(block, `alert ${name}`);
  assert.ok(block.includes(`expr: ${expr}`), `${name}: ${expr}`);
}

Deno.test("a healthy ingest: every verdict ok, no verdict logged", async () => {
  using r = rehearsal();
  r.step(40);
  const v = await r.healthz();
  assert.deepEqual(
    [v.status, v.statsFile, v.writes, v.database, v.clock, v.sources],
    ["ok", "fresh", "ok", "ok", "ok", { local: "ok", regional: "ok" }],
  );
  assert.ok(!r.logged(/ verdict: /), r.log.lines.join("\n"));
});

Deno.test("broker down: disconnected at once, with its last error", async () => {
  using r = rehearsal();
  r.step(5);
  r.sim.brokerDown("regional", true);
  const s = await r.stepsUntil(
    async () => (await r.healthz()).sources.regional === "disconnected",
    2,
    "disconnected",
  );
  assert.ok(s <= 1, `${s} s`);
  assert.equal((await r.healthz()).lastErrors.regional, "EOF");
  assert.ok(r.logged(/WARN verdict: source regional: ok → disconnected/));
  assert.ok(
    has(
      await r.metrics(),
      'corescope_ingestor_source_verdict{source="regional",verdict="disconnected"}',
    ),
  );
  alertOn(
    "CoreScopeSourceDisconnected",
    'corescope_ingestor_source_verdict{verdict="disconnected"} == 1',
  );
  r.sim.brokerDown("regional", false);
  r.step();
  assert.equal((await r.healthz()).sources.regional, "ok");
  assert.ok(r.logged(/INFO verdict: source regional: disconnected → ok/));
});

Deno.test("broker silent (connected, nothing delivered): stalled after receiptStaleAfterSec", async () => {
  using r = rehearsal();
  r.step(5);
  r.sim.brokerSilent("regional", true);
  const s = await r.stepsUntil(
    async () => (await r.healthz()).sources.regional === "stalled",
    DEFAULTS.receiptStaleAfterSec + 2,
    "stalled",
  );
  assert.ok(s <= DEFAULTS.receiptStaleAfterSec + 1, `${s} s`);
  assert.ok(r.logged(/WARN verdict: source regional: ok → stalled/));
  assert.ok(
    has(
      await r.metrics(),
      'corescope_ingestor_source_verdict{source="regional",verdict="stalled"}',
    ),
  );
  alertOn("CoreScopeSourceStalled", 'corescope_ingestor_source_verdict{verdict="stalled"} == 1');
});

Deno.test("database locked: write_failing within seconds, though the clocks stay fresh; ok a window after", async () => {
  using r = rehearsal();
  r.step(35);
  // Another process holds the write lock, as a long transaction or a backup does.
  const locker = new DatabaseSync(r.dir.path("m.db"));
  locker.exec("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE");
  const s = await r.stepsUntil(
    async () => (await r.healthz()).writes === "write_failing",
    5,
    "write_failing",
  );
  assert.ok(s <= 2, `${s} s`);
  const v = await r.healthz();
  assert.deepEqual(v.sources, { local: "write_failing", regional: "write_failing" });
  assert.equal(v.status, "degraded");
  assert.ok(r.logged(/WARN verdict: writes: ok → write_failing/));
  assert.ok(has(await r.metrics(), 'corescope_ingestor_writes_verdict{verdict="write_failing"}'));
  alertOn(
    "CoreScopeIngestWriteFailing",
    'corescope_ingestor_writes_verdict{verdict="write_failing"} == 1',
  );
  locker.exec("ROLLBACK");
  locker.close();
  const back = await r.stepsUntil(
    async () => (await r.healthz()).writes === "ok",
    DEFAULTS.writeWindowSec + 3,
    "ok again",
  );
  assert.ok(back >= DEFAULTS.writeWindowSec - 1, `ok after ${back} s: a whole clean window`);
  assert.ok(r.logged(/INFO verdict: writes: write_failing → ok/));
});

Deno.test("disk full: write_failing within seconds", async () => {
  using r = rehearsal();
  r.step(5);
  r.sim.faults.diskFull = true;
  const s = await r.stepsUntil(
    async () => (await r.healthz()).writes === "write_failing",
    5,
    "write_failing",
  );
  assert.ok(s <= 2, `${s} s`);
  assert.ok(has(await r.metrics(), 'corescope_ingestor_writes_verdict{verdict="write_failing"}'));
});

Deno.test("WAL starved by a reader that never lets go: checkpoint_starved after walResetStaleAfterSec; a WAL that resets stays ok", async () => {
  using r = rehearsal({}, { payloadBytes: 4000 });
  r.step(3);
  const reader = new DatabaseSync(r.dir.path("m.db"), { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT count(*) FROM transmissions").get(); // holds its snapshot
  const s = await r.stepsUntil(
    async () => (await r.healthz()).database === "checkpoint_starved",
    DEFAULTS.walResetStaleAfterSec + 60,
    "checkpoint_starved",
  );
  assert.ok(s <= DEFAULTS.walResetStaleAfterSec + 30, `${s} s`);
  assert.ok(r.logged(/WARN verdict: database: ok → checkpoint_starved/));
  assert.ok(has(await r.metrics(), 'corescope_sqlite_wal_verdict{verdict="checkpoint_starved"}'));
  alertOn(
    "CoreScopeWalCheckpointStarved",
    'corescope_sqlite_wal_verdict{verdict="checkpoint_starved"} == 1',
  );
  reader.exec("COMMIT");
  reader.close();
  await r.stepsUntil(async () => (await r.healthz()).database === "ok", 120, "ok once let go");
  // The same writes with nobody holding the WAL: it resets at each checkpoint.
  using healthy = rehearsal({}, { payloadBytes: 4000 });
  healthy.step(DEFAULTS.walResetStaleAfterSec + 60);
  assert.equal((await healthy.healthz()).database, "ok");
});

Deno.test("ingestor crashed or hung: the stats file goes stale after staleAfterMs, status down", async () => {
  for (const how of ["crashed", "hung"] as const) {
    using r = rehearsal();
    r.step(5);
    if (how === "crashed") r.crash();
    else r.sim.faults.hung = true;
    const s = await r.stepsUntil(
      async () => (await r.healthz()).statsFile === "stale",
      10,
      `${how}: stale`,
    );
    assert.ok(s <= DEFAULTS.staleAfterMs / 1000 + 1, `${how}: ${s} s`);
    assert.equal((await r.healthz()).status, "down");
    assert.ok(r.logged(/WARN verdict: stats file: fresh → stale/), how);
    assert.ok(has(await r.metrics(), 'corescope_ingestor_stats_file_state{state="stale"}'));
  }
  alertOn("CoreScopeStatsFileNotFresh", 'corescope_ingestor_stats_file_state{state!="fresh"} == 1');
});

Deno.test("clock wrong: stamps in milliseconds, or an hour ahead, are said at once", async () => {
  for (
    const [fault, verdict] of [["clockMs", "milliseconds"], ["clockAheadSec", "ahead"]] as const
  ) {
    using r = rehearsal();
    r.step(3);
    if (fault === "clockMs") r.sim.faults.clockMs = true;
    else r.sim.faults.clockAheadSec = 3600;
    r.step();
    const v = await r.healthz();
    assert.equal(v.clock, verdict);
    assert.deepEqual(v.sources, { local: "clock_wrong", regional: "clock_wrong" });
    assert.ok(r.logged(new RegExp(`WARN verdict: clock: ok → ${verdict}`)));
    assert.ok(has(await r.metrics(), `corescope_ingestor_clock_verdict{verdict="${verdict}"}`));
  }
  alertOn("CoreScopeIngestorClockWrong", 'corescope_ingestor_clock_verdict{verdict!="ok"} == 1');
});

Deno.test("ingestor restarted: counters back to 0 are a restart (logged, counted), never a failure", async () => {
  using r = rehearsal();
  r.step(10);
  r.sim.restart();
  r.step(3);
  const v = await r.healthz();
  assert.equal(v.writes, "ok");
  assert.ok(r.logged(/WARN ingestor: the ingestor started again/));
  assert.match(await r.metrics(), /^corescope_ingestor_restarts_total 1$/m);
  alertOn("CoreScopeIngestorRestarting", "increase(corescope_ingestor_restarts_total[30m]) >= 3");
});
