/**
 * deploy/prometheus/corescope-perf.rules.yml under `promtool check rules` and
 * `promtool test rules`: each alert fires when it should, stays silent on a healthy source
 * and a short blip, and resolves.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { writeAtomic } from "../tools/simulator.ts";
import { fixtureText, tempDir } from "./_helpers.ts";
import { freePort, missing, needs, TOOLS } from "./_env.ts";
import { getJson, startService } from "./_service.ts";

const RULES = new URL("../deploy/prometheus/corescope-perf.rules.yml", import.meta.url).pathname;

async function promtool(args: string[]) {
  const out = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

const TESTS = (rules: string) =>
  `rule_files: ["${rules}"]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'corescope_ingestor_source_verdict{instance="a:8080",job="corescope-perf",source="regional",verdict="write_stalled"}'
        values: '_ _ 1 1 1 1 stale'
      - series: 'corescope_ingestor_source_verdict{instance="a:8080",job="corescope-perf",source="local",verdict="ok"}'
        values: '1x8'
      - series: 'corescope_ingestor_source_verdict{instance="b:8080",job="corescope-perf",source="blip",verdict="write_stalled"}'
        values: '_ _ 1 stale'
    alert_rule_test:
      - eval_time: 3m
        alertname: CoreScopeSourceWriteStalled
        exp_alerts: []
      - eval_time: 5m
        alertname: CoreScopeSourceWriteStalled
        exp_alerts:
          - exp_labels: {severity: critical, instance: "a:8080", job: corescope-perf, source: regional, verdict: write_stalled}
            exp_annotations:
              summary: "a:8080: MQTT source regional receives but writes nothing"
              description: "The broker still delivers messages for regional on a:8080, but none has been written to the database for writeStaleAfterSec. Check the ingestor's write path: SQLite writer-lock waits (corescope_ingestor_writer_lock_wait_seconds), write_errors, disk space, and the ingestor's log."
      - eval_time: 8m
        alertname: CoreScopeSourceWriteStalled
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'corescope_ingestor_stats_file_state{instance="a:8080",job="corescope-perf",state="missing"}'
        values: '_ 1 1 1 1 stale'
      - series: 'corescope_ingestor_stats_file_state{instance="a:8080",job="corescope-perf",state="fresh"}'
        values: '1 stale _ _ _ 1 1'
      - series: 'up{instance="c:8080",job="corescope-perf"}'
        values: '1 0 0 0 1 1 1'
      - series: 'corescope_perf_io_source_info{instance="a:8080",job="corescope-perf",source="procfs",wanted="procfs"}'
        values: '1x20'
      - series: 'corescope_perf_io_source_info{instance="b:8080",job="corescope-perf",source="rusage",wanted="procfs"}'
        values: '1x20'
      - series: 'corescope_perf_io_source_info{instance="d:8080",job="corescope-perf",source="rusage",wanted="rusage"}'
        values: '1x20'
    alert_rule_test:
      - eval_time: 2m
        alertname: CoreScopeStatsFileNotFresh
        exp_alerts:
          - exp_labels: {severity: critical, instance: "a:8080", job: corescope-perf, state: missing}
            exp_annotations:
              summary: "a:8080: the ingestor's stats file is missing"
              description: "The ingestor writes its stats file every second; on a:8080 it is missing. The ingestor is probably down or stuck: check its service and log."
      - eval_time: 6m
        alertname: CoreScopeStatsFileNotFresh
        exp_alerts: []
      - eval_time: 3m
        alertname: CoreScopePerfDown
        exp_alerts:
          - exp_labels: {severity: critical, instance: "c:8080", job: corescope-perf}
            exp_annotations:
              summary: "c:8080: corescope-perf does not answer scrapes"
              description: "systemctl status corescope-perf on c:8080."
      - eval_time: 5m
        alertname: CoreScopePerfDown
        exp_alerts: []
      - eval_time: 15m
        alertname: CoreScopePerfNoProcfs
        exp_alerts:
          - exp_labels: {severity: info, instance: "b:8080", job: corescope-perf, source: rusage, wanted: procfs}
            exp_annotations:
              summary: "b:8080: corescope-perf reads its I/O from rusage"
              description: "The /proc bind mount is missing: check BindReadOnlyPaths= in the unit and procIoPath (/run/corescope-perf/self/io) in the config. In a container, where /proc cannot be bound, set procIoPath to \\"\\" (getrusage by choice: this alert stays silent)."
      - eval_time: 5m
        alertname: CoreScopePerfNoProcfs
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'corescope_ingestor_writes_verdict{instance="a:8080",job="corescope-perf",verdict="write_failing"}'
        values: '_ 1 1 1 stale'
      - series: 'corescope_ingestor_writes_verdict{instance="b:8080",job="corescope-perf",verdict="write_failing"}'
        values: '_ 1 stale'
      - series: 'corescope_ingestor_source_verdict{instance="a:8080",job="corescope-perf",source="regional",verdict="disconnected"}'
        values: '_ 1 1 1 stale'
      - series: 'corescope_sqlite_wal_verdict{instance="a:8080",job="corescope-perf",verdict="checkpoint_starved"}'
        values: '_ 1 1 1 stale'
      - series: 'corescope_ingestor_clock_verdict{instance="a:8080",job="corescope-perf",verdict="milliseconds"}'
        values: '1x6 stale'
      - series: 'corescope_ingestor_clock_verdict{instance="b:8080",job="corescope-perf",verdict="ok"}'
        values: '1x6'
      - series: 'corescope_ingestor_restarts_total{instance="a:8080",job="corescope-perf"}'
        values: '0 1 2 3 3'
    alert_rule_test:
      - eval_time: 1m
        alertname: CoreScopeIngestWriteFailing
        exp_alerts: []
      - eval_time: 2m
        alertname: CoreScopeIngestWriteFailing
        exp_alerts:
          - exp_labels: {severity: critical, instance: "a:8080", job: corescope-perf, verdict: write_failing}
            exp_annotations:
              summary: "a:8080: the ingestor fails to write to its database"
              description: "On a:8080 the ingestor's write_errors grew, or no row was written while packets arrived, within writeWindowSec. The database is probably locked (a long transaction, a backup holding a lock) or the disk is full: check the ingestor's log for \\"database is locked\\" or \\"disk is full\\", and df on the database's filesystem."
      - eval_time: 5m
        alertname: CoreScopeIngestWriteFailing
        exp_alerts: []
      - eval_time: 2m
        alertname: CoreScopeSourceDisconnected
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf, source: regional, verdict: disconnected}
            exp_annotations:
              summary: "a:8080: MQTT source regional is disconnected from its broker"
              description: "The ingestor on a:8080 reports regional as not connected. GET /api/healthz (ingest.lastErrors) and /api/mqtt/status show its last error: check the broker, the network path to it and the credentials."
      - eval_time: 2m
        alertname: CoreScopeWalCheckpointStarved
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf, verdict: checkpoint_starved}
            exp_annotations:
              summary: "a:8080: SQLite checkpoints cannot reset the WAL"
              description: "The WAL on a:8080 has not been reset for walResetStaleAfterSec while it grows: a reader holds an old snapshot (a long query, a stuck connection, a backup). The WAL grows without bound until that reader lets go; find it (fuser or lsof on the database)."
      - eval_time: 4m
        alertname: CoreScopeIngestorClockWrong
        exp_alerts: []
      - eval_time: 5m
        alertname: CoreScopeIngestorClockWrong
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf, verdict: milliseconds}
            exp_annotations:
              summary: "a:8080: the ingestor's clock is wrong (milliseconds)"
              description: "The ingestor on a:8080 writes stamps that are milliseconds (milliseconds instead of seconds, or ahead of this host's clock): its liveness verdicts cannot be trusted. Check NTP on both hosts, or the ingestor's version."
      - eval_time: 2m
        alertname: CoreScopeIngestorRestarting
        exp_alerts: []
      - eval_time: 3m
        alertname: CoreScopeIngestorRestarting
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf}
            exp_annotations:
              summary: "a:8080: the ingestor restarted 3 times in 30 minutes"
              description: "Its counters went back to 0 3 times on a:8080: it is crashing and being restarted. Check its log and its service manager."
  - interval: 1m
    input_series:
      # a: the disk fills for 20 minutes, then is full; b: low for 10 minutes only (a blip).
      - series: 'corescope_sqlite_disk_verdict{instance="a:8080",job="corescope-perf",verdict="low"}'
        values: '_ 1x20 stale'
      - series: 'corescope_sqlite_disk_verdict{instance="a:8080",job="corescope-perf",verdict="full"}'
        values: '_x22 1 1 1 stale'
      - series: 'corescope_sqlite_disk_verdict{instance="b:8080",job="corescope-perf",verdict="low"}'
        values: '_ 1x9 stale'
      # a: contended for 6 minutes; b: for 3 (a prune's blip).
      - series: 'corescope_ingestor_writer_lock_verdict{instance="a:8080",job="corescope-perf",verdict="contended"}'
        values: '_ 1x6 stale'
      - series: 'corescope_ingestor_writer_lock_verdict{instance="b:8080",job="corescope-perf",verdict="contended"}'
        values: '_ 1x3 stale'
    alert_rule_test:
      - eval_time: 15m
        alertname: CoreScopeDiskFillingUp
        exp_alerts: []
      - eval_time: 17m
        alertname: CoreScopeDiskFillingUp
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf, verdict: low}
            exp_annotations:
              summary: "a:8080: the database's filesystem fills up"
              description: "On a:8080 the filesystem that holds CoreScope's database will be full within diskLowHours at the last diskWindowSec's rate, or has less than diskLowMiB free. corescope_sqlite_disk_full_in_seconds says when; GET /api/healthz (ingest.diskSpace) shows the figures. Free space, grow the volume, or shorten CoreScope's retention."
      - eval_time: 23m
        alertname: CoreScopeDiskFillingUp
        exp_alerts: []
      - eval_time: 22m
        alertname: CoreScopeDiskFull
        exp_alerts: []
      - eval_time: 23m
        alertname: CoreScopeDiskFull
        exp_alerts:
          - exp_labels: {severity: critical, instance: "a:8080", job: corescope-perf, verdict: full}
            exp_annotations:
              summary: "a:8080: the database's filesystem is full"
              description: "On a:8080 the filesystem that holds CoreScope's database has less free space than SQLite needs between two checkpoints, and the ingest fails. Free space there (old logs, images, backups) or grow the volume; CoreScope's retention (packetDays) bounds the database."
      - eval_time: 4m
        alertname: CoreScopeWriterLockContended
        exp_alerts: []
      - eval_time: 6m
        alertname: CoreScopeWriterLockContended
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf, verdict: contended}
            exp_annotations:
              summary: "a:8080: writes queue for the SQLite writer lock"
              description: "On a:8080 the ingestor's writes wait for the database's writer lock (its writer_perf: waits over 100 ms, or a wait or hold p99 over writerLockMs). Past its 5 s busy timeout writes fail with \\"database is locked\\". Look for another writer: a backup, a long maintenance query, a second ingestor; GET /api/perf/write-sources shows writer_perf."
      - eval_time: 9m
        alertname: CoreScopeWriterLockContended
        exp_alerts: []
`;

Deno.test(needs(missing(TOOLS.promtool), "alert rules: promtool check rules is clean", async () => {
  const r = await promtool(["check", "rules", RULES]);
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /SUCCESS: 17 rules found/);
}));

Deno.test(
  needs(
    missing(TOOLS.promtool),
    "alert rules: each fires, stays silent on a blip, resolves",
    async () => {
      using dir = tempDir();
      Deno.writeTextFileSync(dir.path("tests.yml"), TESTS(RULES));
      const r = await promtool(["test", "rules", dir.path("tests.yml")]);
      assert.equal(r.code, 0, r.text);
      assert.match(r.text, /SUCCESS/);
    },
  ),
);

/**
 * A stats file writer for one ingestor, as the real one behaves: packets keep arriving and
 * the clocks stay fresh; while `failing()` its writes fail (write_errors grow, rows flat).
 */
function ingestor(path: string, source: string, failing: () => boolean) {
  let rows = 1000, errors = 0, packets = 0;
  const write = () => {
    const now = Math.floor(Date.now() / 1000);
    const doc = JSON.parse(fixtureText(new Date().toISOString()));
    packets += 5;
    if (failing()) errors += 5;
    else rows += 5;
    Object.assign(doc, {
      tx_inserted: rows,
      tx_dupes: 0,
      obs_inserted: rows,
      write_errors: errors,
    });
    doc.source_liveness = { [source]: { lastReceiptUnix: now, lastMessageUnix: now } };
    doc.source_statuses = [{ name: source, connected: true, packetsTotal: packets }];
    writeAtomic(path, JSON.stringify(doc));
  };
  write();
  const timer = setInterval(write, 500);
  return { stop: () => clearInterval(timer) };
}

interface Notice {
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

Deno.test(
  needs(
    missing(TOOLS.prometheus, TOOLS.alertmanager),
    "end to end: a real Prometheus scrapes two instances and a real Alertmanager sends the write failure and the low disk to a webhook, for that instance only, then the resolution",
    async () => {
      using dir = tempDir();
      let failing = true;
      const a = ingestor(dir.path("a.json"), "local", () => false);
      const b = ingestor(dir.path("b.json"), "regional", () => failing);
      // The shortest write window, so the resolution comes within seconds; b's disk, read by
      // statfs like any, is low by its floor (more than any test machine has free), a's never
      // by its floor (0), whatever this machine has free.
      Deno.writeTextFileSync(
        dir.path("a.cfg.json"),
        JSON.stringify({ writeWindowSec: 10, diskLowMiB: 0 }),
      );
      Deno.writeTextFileSync(
        dir.path("b.cfg.json"),
        JSON.stringify({ writeWindowSec: 10, diskLowMiB: 1024 * 1024 }),
      );
      for (const name of ["a", "b"]) new DatabaseSync(dir.path(`${name}.db`)).close();
      const start = (name: string) =>
        startService([
          "--config",
          dir.path(`${name}.cfg.json`),
          "--port",
          "0",
          "--stats",
          dir.path(`${name}.json`),
          "--db",
          dir.path(`${name}.db`),
        ]);
      const svcA = await start("a");
      const svcB = await start("b");
      const notices: Notice[] = [];
      const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        notices.push(await req.json());
        return new Response("ok");
      });
      const amPort = freePort(), promPort = freePort();
      // The shipped rules, each `for:` duration shortened to one second for the test.
      const rules = Deno.readTextFileSync(RULES).replace(/^(\s+for: )\d+m$/gm, (_m, f) => `${f}1s`);
      Deno.writeTextFileSync(dir.path("rules.yml"), rules);
      Deno.writeTextFileSync(
        dir.path("alertmanager.yml"),
        `route:
  receiver: hook
  group_by: [alertname, instance, source]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:${hook.addr.port}/
        send_resolved: true
`,
      );
      const targets = [svcA, svcB].map((s) => `"${s.base.replace("http://", "")}"`).join(", ");
      Deno.writeTextFileSync(
        dir.path("prometheus.yml"),
        `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["${dir.path("rules.yml")}"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:${amPort}"]
scrape_configs:
  - job_name: corescope-perf
    static_configs:
      - targets: [${targets}]
`,
      );
      const am = new Deno.Command("prometheus-alertmanager", {
        args: [
          `--config.file=${dir.path("alertmanager.yml")}`,
          `--storage.path=${dir.path("am")}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          "--cluster.listen-address=",
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const prom = new Deno.Command("prometheus", {
        args: [
          `--config.file=${dir.path("prometheus.yml")}`,
          `--storage.tsdb.path=${dir.path("tsdb")}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const noticesOf = (alertname: string, status: string) =>
        notices.flatMap((n) => n.alerts).filter((x) =>
          x.labels.alertname === alertname && x.status === status
        );
      const failNotices = (status: string) => noticesOf("CoreScopeIngestWriteFailing", status);
      const waitFor = async (what: string, ok: () => boolean, ms: number) => {
        const until = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > until) {
            throw new Error(`${what} within ${ms} ms; got ${JSON.stringify(notices)}`);
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      try {
        await waitFor(
          "a firing write-failure alert",
          () => failNotices("firing").length > 0,
          45_000,
        );
        const firing = failNotices("firing");
        const bTarget = svcB.base.replace("http://", "");
        for (const x of firing) {
          assert.equal(x.labels.instance, bTarget, "the failing instance only");
          assert.equal(x.labels.verdict, "write_failing");
          assert.equal(x.labels.severity, "critical");
          assert.equal(x.labels.job, "corescope-perf");
        }
        console.log(`webhook payload (firing): ${JSON.stringify(firing[0])}`);
        await waitFor(
          "a firing disk alert",
          () => noticesOf("CoreScopeDiskFillingUp", "firing").length > 0,
          45_000,
        );
        for (const x of noticesOf("CoreScopeDiskFillingUp", "firing")) {
          assert.equal(x.labels.instance, bTarget, "the instance whose disk is low only");
          assert.equal(x.labels.verdict, "low");
        }
        // The scrape itself, read back through Prometheus's API: the stats file's counter.
        const q = encodeURIComponent("corescope_ingestor_tx_inserted_total");
        const { body } = await getJson(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`);
        const values = body.data.result.map((r: { value: [number, string] }) => Number(r.value[1]));
        assert.equal(values.length, 2, "both instances scraped");
        assert.ok(values.every((v: number) => v >= 1000), `${values}`);
        failing = false; // the write path recovers
        await waitFor("the alert resolved", () => failNotices("resolved").length > 0, 45_000);
        console.log(`webhook payload (resolved): ${JSON.stringify(failNotices("resolved")[0])}`);
        assert.equal(failNotices("resolved")[0]!.labels.instance, bTarget);
      } finally {
        a.stop();
        b.stop();
        prom.kill("SIGTERM");
        am.kill("SIGTERM");
        await prom.status;
        await am.status;
        await hook.shutdown();
        await svcA.stop();
        await svcB.stop();
      }
    },
  ),
);
