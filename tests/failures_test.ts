/**
 * The failure table in docs/alerting.md, row by row: the simulated ingestor is driven through
 * each real failure (as CoreScope's ingestor shows it in its stats file and database), and the
 * service must give the verdict, the log line, the metric and an alert rule for it, within the
 * time the table states and no later than that plus the sampling interval.
 *
 * Time is simulated, in steps of `sliceMs` (100 ms, or 10 ms where the bound is tight): the
 * ingestor ticks on each whole second, as the real one does (its stamps are whole seconds),
 * and the service samples (the 1 Hz watch of counters, the WAL and the disk) `phaseMs` after
 * each tick. A phase just under a second is the worst case for anything the watch decides: a
 * change written by the ingestor's tick is seen by the sample almost a second later.
 * Verdicts judged per request (the stats file's age, a source's clocks) are asked for after
 * every slice, so their times are exact to the slice.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createHandler } from "../src/http/routes.ts";
import { type Config, DEFAULTS } from "../src/app/config.ts";
import { createRuntime } from "../src/app/runtime.ts";
import { createSimulator, type SimulatorOptions } from "../tools/simulator.ts";
import { captureLogger, tempDir } from "./_helpers.ts";
import { must, sh } from "./_corescope.ts";
import { missing, needs } from "./_env.ts";

const RULES = Deno.readTextFileSync(
  new URL("../deploy/prometheus/corescope-perf.rules.yml", import.meta.url),
);

interface Timing {
  /** The simulated time step, ms. */
  sliceMs?: number;
  /** The service samples this long after each ingestor tick, ms (a multiple of sliceMs). */
  phaseMs?: number;
  /** Where the files go (a small tmpfs, for the disk rows). */
  dir?: string;
}

/** A simulator and the service over the same files, on one simulated clock. */
function rehearsal(
  over: Partial<Config> = {},
  sim: Partial<SimulatorOptions> = {},
  timing: Timing = {},
) {
  const own = timing.dir ? undefined : tempDir();
  const dir = timing.dir ?? own!.dir;
  const slice = timing.sliceMs ?? 100, phase = timing.phaseMs ?? 0;
  let t = Date.parse("2026-12-03T12:00:00Z");
  const statsPath = `${dir}/s.json`, dbPath = `${dir}/m.db`;
  const ingestor = createSimulator({ statsPath, dbPath, now: () => t, txPerTick: 8, ...sim });
  ingestor.tick();
  const log = captureLogger();
  // No disk floor unless a row asks for one: the verdicts must not depend on what this
  // machine has free (the disk rows set their own).
  const config = { ...DEFAULTS, statsPath, dbPath, diskLowMiB: 0, ...over };
  const rt = createRuntime(config, log, {
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
  /** When the ingestor's counters first showed a write error (ms), once they have. */
  let firstErrorAt: number | undefined;
  /** When the ingestor first failed to write its stats file (a full disk), once it has. */
  let statsFailedAt: number | undefined;
  /** One slice passes: the ingestor ticks on the second, the service samples on its phase. */
  const advance = () => {
    t += slice;
    if (t % 1000 === 0 && !stopped) {
      const written = ingestor.tick() !== undefined || ingestor.faults.hung;
      if (!written) statsFailedAt ??= t;
      if (firstErrorAt === undefined && ingestor.counters().write_errors! > 0) firstErrorAt = t;
    }
    if ((t - phase) % 1000 === 0) rt.sample();
  };
  return {
    dir,
    sim: ingestor,
    log,
    now: () => t,
    firstErrorAt: () => firstErrorAt,
    statsFailedAt: () => statsFailedAt,
    /** `sec` seconds pass. */
    step(sec = 1) {
      for (let i = 0; i < (sec * 1000) / slice; i++) advance();
    },
    /**
     * Milliseconds until `cond` holds, asked after every slice; fails past `maxMs`.
     */
    async until(cond: () => Promise<boolean>, maxMs: number, what: string) {
      const t0 = t;
      while (!(await cond())) {
        if (t - t0 >= maxMs) throw new Error(`${what}: not within ${maxMs} ms`);
        advance();
      }
      return t - t0;
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
      own?.[Symbol.dispose]();
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

/** The worst phase at a 10 ms slice: the service samples 990 ms after each ingestor tick. */
const WORST = { sliceMs: 10, phaseMs: 990 };

Deno.test("a healthy ingest: every verdict ok, no verdict logged", async () => {
  using r = rehearsal();
  r.step(40);
  const v = await r.healthz();
  assert.deepEqual(
    [v.status, v.statsFile, v.writes, v.database, v.clock, v.writerLock, v.sources],
    ["ok", "fresh", "ok", "ok", "ok", "ok", { local: "ok", regional: "ok" }],
  );
  assert.ok(!r.logged(/ verdict: /), r.log.lines.join("\n"));
});

Deno.test("broker down: disconnected within 1 s (the ingestor's next tick), with its last error", async () => {
  using r = rehearsal({}, {}, WORST);
  r.step(5);
  r.sim.brokerDown("regional", true); // just after a tick: the worst case
  const ms = await r.until(
    async () => (await r.healthz()).sources.regional === "disconnected",
    2000,
    "disconnected",
  );
  assert.ok(ms <= 1000, `${ms} ms`);
  assert.equal((await r.healthz()).lastErrors.regional, "EOF");
  r.step(); // the log line comes with the next 1 Hz sample
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
  r.step(2); // a tick writes it, a sample logs it
  assert.equal((await r.healthz()).sources.regional, "ok");
  assert.ok(r.logged(/INFO verdict: source regional: disconnected → ok/));
});

Deno.test("broker silent (connected, nothing delivered): stalled receiptStaleAfterSec after its last receipt, to the slice", async () => {
  using r = rehearsal();
  r.step(5);
  r.sim.brokerSilent("regional", true);
  const last = (await r.healthz()) && r.now(); // the last tick stamped its receipt: this second
  const ms = await r.until(
    async () => (await r.healthz()).sources.regional === "stalled",
    (DEFAULTS.receiptStaleAfterSec + 2) * 1000,
    "stalled",
  );
  const after = r.now() - last;
  assert.ok(after > DEFAULTS.receiptStaleAfterSec * 1000, `${after} ms: not before`);
  assert.ok(after <= DEFAULTS.receiptStaleAfterSec * 1000 + 100, `${after} ms (${ms})`);
  r.step(); // the log line comes with the next 1 Hz sample
  assert.ok(r.logged(/WARN verdict: source regional: ok → stalled/));
  assert.ok(
    has(
      await r.metrics(),
      'corescope_ingestor_source_verdict{source="regional",verdict="stalled"}',
    ),
  );
  alertOn("CoreScopeSourceStalled", 'corescope_ingestor_source_verdict{verdict="stalled"} == 1');
});

Deno.test("database locked: write_failing within 2 s (a tick and a sample) though the clocks stay fresh; ok a window after", async () => {
  using r = rehearsal({}, {}, WORST);
  r.step(35);
  // Another process holds the write lock, as a long transaction or a backup does.
  const locker = new DatabaseSync(`${r.dir}/m.db`);
  locker.exec("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE");
  const ms = await r.until(
    async () => (await r.healthz()).writes === "write_failing",
    5000,
    "write_failing",
  );
  assert.ok(ms <= 2000, `${ms} ms`);
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
  const back = await r.until(
    async () => (await r.healthz()).writes === "ok",
    (DEFAULTS.writeWindowSec + 3) * 1000,
    "ok again",
  );
  assert.ok(back >= (DEFAULTS.writeWindowSec - 1) * 1000, `ok after ${back} ms: a clean window`);
  assert.ok(r.logged(/INFO verdict: writes: write_failing → ok/));
});

Deno.test("writer lock contended (a second writer holds the lock in 2 s bursts): contended within a sample of the file that shows it, writes ok; write_failing once the bursts pass the busy timeout", async () => {
  using r = rehearsal({}, {}, WORST);
  r.step(35);
  assert.equal((await r.healthz()).writerLock, "ok");
  r.sim.faults.lockBurst = { everySec: 5, holdMs: 2000 };
  // The ingestor's own figures, tick by tick: the first file in which a wait p99 at or over
  // writerLockMs moved, or writerContentionCount waits over 100 ms gathered within the window.
  const t0 = r.now();
  const ms = await r.until(
    async () => (await r.healthz()).writerLock === "contended",
    12_000,
    "contended",
  );
  const stats = JSON.parse(Deno.readTextFileSync(`${r.dir}/s.json`));
  const w = stats.writer_perf.mqtt_handler;
  assert.ok(w.wait_ms_p99 >= 1000 || w.contention_total >= 3, JSON.stringify(w));
  // The file that first showed it was written on a whole second; a sample sees it within 1 s.
  const shownAt = Math.floor(r.now() / 1000) * 1000;
  assert.ok(r.now() - shownAt <= 1000, `${r.now() - shownAt} ms after the file`);
  assert.ok(ms <= 11_000, `${ms} ms after the bursts began (two bursts and a sample)`);
  console.log(`contended ${ms} ms after the bursts began: ${JSON.stringify(w)}`);
  let v = await r.healthz();
  assert.equal(v.writes, "ok", "contended before any write fails");
  assert.equal(v.status, "degraded");
  assert.ok(r.logged(/WARN verdict: writer lock: ok → contended/));
  assert.ok(
    has(await r.metrics(), 'corescope_ingestor_writer_lock_verdict{verdict="contended"}'),
  );
  alertOn(
    "CoreScopeWriterLockContended",
    'corescope_ingestor_writer_lock_verdict{verdict="contended"} == 1',
  );
  // Longer bursts than the ingestor's 5 s busy timeout: now the writes fail.
  r.sim.faults.lockBurst = { everySec: 5, holdMs: 6000 };
  await r.until(async () => (await r.healthz()).writes === "write_failing", 7000, "failing");
  // The bursts end: a whole clean window later, both verdicts are ok again.
  r.sim.faults.lockBurst = { everySec: 0, holdMs: 0 };
  await r.until(
    async () => {
      v = await r.healthz();
      return v.writerLock === "ok" && v.writes === "ok";
    },
    (DEFAULTS.writeWindowSec + 3) * 1000,
    "ok again",
  );
  assert.ok(r.now() - t0 > DEFAULTS.writeWindowSec * 1000);
});

Deno.test("WAL starved by a reader that never lets go: checkpoint_starved walResetStaleAfterSec after the WAL's last reset was seen; a WAL that resets stays ok", async () => {
  using r = rehearsal({}, { payloadBytes: 4000 });
  r.step(3);
  const reader = new DatabaseSync(`${r.dir}/m.db`, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT count(*) FROM transmissions").get(); // holds its snapshot
  // From here no checkpoint can reset the WAL; the last reset the watch saw is its `since`.
  const ms = await r.until(
    async () => (await r.healthz()).database === "checkpoint_starved",
    (DEFAULTS.walResetStaleAfterSec + 60) * 1000,
    "checkpoint_starved",
  );
  const g = JSON.parse(
    await r.metrics().then((m) => {
      const age = m.match(/^corescope_sqlite_wal_generation_age_seconds (\S+)$/m)?.[1];
      return JSON.stringify(Number(age));
    }),
  );
  assert.ok(g >= DEFAULTS.walResetStaleAfterSec, `generation age ${g} s`);
  assert.ok(ms <= (DEFAULTS.walResetStaleAfterSec + 1) * 1000, `${ms} ms after the reader began`);
  assert.ok(r.logged(/WARN verdict: database: ok → checkpoint_starved/));
  assert.ok(has(await r.metrics(), 'corescope_sqlite_wal_verdict{verdict="checkpoint_starved"}'));
  alertOn(
    "CoreScopeWalCheckpointStarved",
    'corescope_sqlite_wal_verdict{verdict="checkpoint_starved"} == 1',
  );
  reader.exec("COMMIT");
  reader.close();
  await r.until(async () => (await r.healthz()).database === "ok", 120_000, "ok once let go");
  // The same writes with nobody holding the WAL: it resets at each checkpoint.
  using healthy = rehearsal({}, { payloadBytes: 4000 });
  healthy.step(DEFAULTS.walResetStaleAfterSec + 60);
  assert.equal((await healthy.healthz()).database, "ok");
});

Deno.test("ingestor crashed or hung: stale the first slice past staleAfterMs after the file's last sampledAt, status down", async () => {
  for (const how of ["crashed", "hung"] as const) {
    using r = rehearsal();
    r.step(5);
    // The last file's stamp is this whole second (the ingestor stamps whole seconds).
    const stamp = r.now();
    if (how === "crashed") r.crash();
    else r.sim.faults.hung = true;
    await r.until(async () => (await r.healthz()).statsFile === "stale", 10_000, `${how}: stale`);
    const age = r.now() - stamp;
    assert.ok(age > DEFAULTS.staleAfterMs && age <= DEFAULTS.staleAfterMs + 100, `${how}: ${age}`);
    assert.equal((await r.healthz()).status, "down");
    r.step(); // the log line comes with the next 1 Hz sample
    assert.ok(r.logged(/WARN verdict: stats file: fresh → stale/), how);
    assert.ok(has(await r.metrics(), 'corescope_ingestor_stats_file_state{state="stale"}'));
  }
  alertOn("CoreScopeStatsFileNotFresh", 'corescope_ingestor_stats_file_state{state!="fresh"} == 1');
});

Deno.test("clock wrong: stamps in milliseconds, or an hour ahead, are said within 1 s (the next tick)", async () => {
  for (
    const [fault, verdict] of [["clockMs", "milliseconds"], ["clockAheadSec", "ahead"]] as const
  ) {
    using r = rehearsal();
    r.step(3);
    if (fault === "clockMs") r.sim.faults.clockMs = true;
    else r.sim.faults.clockAheadSec = 3600;
    const ms = await r.until(async () => (await r.healthz()).clock === verdict, 2000, verdict);
    assert.ok(ms <= 1000, `${ms} ms`);
    const v = await r.healthz();
    assert.deepEqual(v.sources, { local: "clock_wrong", regional: "clock_wrong" });
    r.step();
    assert.ok(r.logged(new RegExp(`WARN verdict: clock: ok → ${verdict}`)));
    assert.ok(has(await r.metrics(), `corescope_ingestor_clock_verdict{verdict="${verdict}"}`));
  }
  alertOn("CoreScopeIngestorClockWrong", 'corescope_ingestor_clock_verdict{verdict!="ok"} == 1');
});

Deno.test("ingestor restarted: counters back to 0 are a restart (logged, counted) within 2 s, never a failure", async () => {
  using r = rehearsal({}, {}, WORST);
  r.step(10);
  r.sim.restart();
  const ms = await r.until(
    async () => /^corescope_ingestor_restarts_total 1$/m.test(await r.metrics()),
    3000,
    "restart counted",
  );
  assert.ok(ms <= 2000, `${ms} ms`);
  r.step(3);
  const v = await r.healthz();
  assert.equal(v.writes, "ok");
  assert.ok(r.logged(/WARN ingestor: the ingestor started again/));
  alertOn("CoreScopeIngestorRestarting", "increase(corescope_ingestor_restarts_total[30m]) >= 3");
});

/** A tmpfs of `mib` MiB, mounted for the test and unmounted after; needs root. */
async function smallDisk(mib: number) {
  const dir = Deno.makeTempDirSync({ prefix: "corescope-perf-disk-" });
  await must(["mount", "-t", "tmpfs", "-o", `size=${mib}m,mode=0755`, "tmpfs", dir]);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await sh(["umount", "-l", dir]);
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

const ROOT_ONLY = (await sh(["id", "-u"])).stdout.trim() === "0" ? undefined : "not root";

Deno.test(
  needs(
    missing(["mount", "--version"], ["umount", "--version"]) ?? ROOT_ONLY,
    "disk filling up, for real (a 40 MiB tmpfs the simulator fills): low from the forecast before any write fails, full within staleAfterMs and a sample of the first that does",
    async () => {
      await using disk = await smallDisk(40);
      // The forecast's shortest window (60 s: it speaks after 15 s) and a floor of 0, so it is
      // the rate, not the floor, that says low; the database grows about 0.4 MiB a second.
      using r = rehearsal(
        { diskWindowSec: 60, diskLowHours: 1, diskLowMiB: 0 },
        { txPerTick: 80, payloadBytes: 2000 },
        { dir: disk.dir, ...WORST },
      );
      const t0 = r.now();
      r.step(3);
      assert.equal((await r.healthz()).disk, "ok");
      await r.until(async () => (await r.healthz()).disk === "low", 60_000, "low");
      const low = r.now();
      const v = await r.healthz();
      assert.ok(v.diskSpace.fullInSec < 3600, JSON.stringify(v.diskSpace));
      assert.equal(v.diskSpace.learning, false);
      r.step(); // the log line comes with the next 1 Hz sample
      assert.ok(r.logged(/WARN verdict: disk: ok → low/));
      assert.ok(has(await r.metrics(), 'corescope_sqlite_disk_verdict{verdict="low"}'));
      alertOn("CoreScopeDiskFillingUp", 'corescope_sqlite_disk_verdict{verdict="low"} == 1');
      // A full disk fails the stats file's next version first (it needs a new block; SQLite
      // reuses its own free pages a while longer), then the database's writes.
      const failed = () => Math.min(r.statsFailedAt() ?? Infinity, r.firstErrorAt() ?? Infinity);
      await r.until(() => Promise.resolve(failed() < Infinity), 120_000, "the first failed write");
      const first = failed();
      assert.ok(first > low, "low before any write failed");
      await r.until(
        async () => (await r.healthz()).disk === "full",
        DEFAULTS.staleAfterMs + 2000,
        "full",
      );
      const late = r.now() - first;
      assert.ok(late <= DEFAULTS.staleAfterMs + 1000, `full ${late} ms after the first failure`);
      console.log(
        `disk: low after ${(low - t0) / 1000} s, the stats file failed after ${
          ((r.statsFailedAt() ?? NaN) - t0) / 1000
        } s, full ${late} ms later: ${JSON.stringify((await r.healthz()).diskSpace)}`,
      );
      r.step();
      assert.ok(r.logged(/WARN verdict: disk: low → full/));
      assert.ok(has(await r.metrics(), 'corescope_sqlite_disk_verdict{verdict="full"}'));
      alertOn("CoreScopeDiskFull", 'corescope_sqlite_disk_verdict{verdict="full"} == 1');
    },
  ),
);
