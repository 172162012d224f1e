/**
 * deploy/prometheus/corescope-perf.rules.yml under `promtool check rules` and
 * `promtool test rules`: each alert fires when it should, stays silent on a healthy source
 * and a short blip, and resolves.
 */
import assert from "node:assert/strict";
import { tempDir } from "./_helpers.ts";
import { missing, needs, TOOLS } from "./_env.ts";

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
