/**
 * deploy/prometheus/corescope-perf.rules.yml under `promtool check rules` and
 * `promtool test rules`: each alert fires when it should, stays silent on a healthy source
 * and a short blip, and resolves.
 */
import assert from "node:assert/strict";
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
      - series: 'corescope_ingestor_write_errors_total{instance="a:8080",job="corescope-perf"}'
        values: '3 3 3 5 5 5 5'
      - series: 'corescope_perf_io_source_info{instance="a:8080",job="corescope-perf",source="procfs"}'
        values: '1x20'
    alert_rule_test:
      - eval_time: 4m
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
      - eval_time: 2m
        alertname: CoreScopeIngestorWriteErrors
        exp_alerts: []
      - eval_time: 4m
        alertname: CoreScopeIngestorWriteErrors
        exp_alerts:
          - exp_labels: {severity: warning, instance: "a:8080", job: corescope-perf}
            exp_annotations:
              summary: "a:8080: the ingestor's write errors are rising"
              description: "2.25 write errors in 10 minutes on a:8080. Check the ingestor's log for the SQLite error (disk full, locked, corrupt)."
      - eval_time: 15m
        alertname: CoreScopePerfNoProcfs
        exp_alerts: []
`;

Deno.test(needs(missing(TOOLS.promtool), "alert rules: promtool check rules is clean", async () => {
  const r = await promtool(["check", "rules", RULES]);
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /SUCCESS: 10 rules found/);
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

/** A stats file writer for one simulated ingestor: `stalled()` says whether writes lag. */
function ingestor(path: string, source: string, stalled: () => boolean) {
  const write = () => {
    const now = Math.floor(Date.now() / 1000);
    const doc = JSON.parse(fixtureText(new Date().toISOString()));
    doc.source_liveness = {
      [source]: { lastReceiptUnix: now, lastMessageUnix: stalled() ? now - 900 : now },
    };
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
    "end to end: a real Prometheus scrapes two instances and a real Alertmanager sends the write stall to a webhook, for that instance and source only, then its resolution",
    async () => {
      using dir = tempDir();
      let stalled = true;
      const a = ingestor(dir.path("a.json"), "local", () => false);
      const b = ingestor(dir.path("b.json"), "regional", () => stalled);
      const svcA = await startService([
        "--port",
        "0",
        "--stats",
        dir.path("a.json"),
        "--db",
        dir.path("a.db"),
      ]);
      const svcB = await startService([
        "--port",
        "0",
        "--stats",
        dir.path("b.json"),
        "--db",
        dir.path("b.db"),
      ]);
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
      const stallNotices = (status: string) =>
        notices.flatMap((n) => n.alerts).filter((x) =>
          x.labels.alertname === "CoreScopeSourceWriteStalled" && x.status === status
        );
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
          "a firing write-stall alert",
          () => stallNotices("firing").length > 0,
          45_000,
        );
        const firing = stallNotices("firing");
        const bTarget = svcB.base.replace("http://", "");
        for (const x of firing) {
          assert.equal(x.labels.instance, bTarget, "the stalled instance only");
          assert.equal(x.labels.source, "regional", "the stalled source only");
          assert.equal(x.labels.verdict, "write_stalled");
          assert.equal(x.labels.severity, "critical");
          assert.equal(x.labels.job, "corescope-perf");
        }
        console.log(`webhook payload (firing): ${JSON.stringify(firing[0])}`);
        // The scrape itself, read back through Prometheus's API: the stats file's counter.
        const q = encodeURIComponent("corescope_ingestor_tx_inserted_total");
        const { body } = await getJson(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`);
        const values = body.data.result.map((r: { value: [number, string] }) => r.value[1]);
        assert.deepEqual(values, ["1843201", "1843201"], "both instances scraped");
        stalled = false; // the write path recovers
        await waitFor("the alert resolved", () => stallNotices("resolved").length > 0, 45_000);
        console.log(`webhook payload (resolved): ${JSON.stringify(stallNotices("resolved")[0])}`);
        assert.equal(stallNotices("resolved")[0]!.labels.source, "regional");
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
