/**
 * The same image under podman (Debian's, with Debian's runc), run with the compose recipe's
 * flags: CoreScope's data folder read-only, cap_drop ALL plus the three the entrypoint needs,
 * no-new-privileges, a read-only root, a port on the host's 127.0.0.1. The data is written as
 * CoreScope's container writes it (root's, the stats file 0600) by the simulator; the process
 * must read it as uid 65534 with CAP_DAC_READ_SEARCH alone, as under Docker
 * (tests/compose_test.ts runs the whole lifecycle there, beside the real CoreScope).
 */
import assert from "node:assert/strict";
import { tempDir } from "./_helpers.ts";
import { freePort, missing, needs, TOOLS } from "./_env.ts";
import { must, sh } from "./_corescope.ts";
import { createSimulator } from "../tools/simulator.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test(
  needs(
    missing(TOOLS.podman, TOOLS.runc, TOOLS.setpriv),
    "podman runs the image as compose does: uid 65534 with CAP_DAC_READ_SEARCH alone reads root's 0600 stats file",
    async () => {
      using dir = tempDir("/tmp");
      // This machine's podman settings, kept to this test: runc, and the ulimits podman needs.
      const conf = dir.path("containers.conf");
      Deno.writeTextFileSync(
        conf,
        `[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n[engine]\nruntime = "runc"\n`,
      );
      const env = {
        ...Deno.env.toObject(),
        CONTAINERS_CONF: conf,
        DENO: Deno.execPath(),
        ENGINE: "podman",
      };
      const tag = "localhost/corescope-perf:test";
      const built = await must(["bash", `${ROOT}deploy/container/build.sh`, "--tag", tag], { env });
      assert.match(built, /built localhost\/corescope-perf:test with podman \(\d+ MiB\)/);
      const data = dir.path("data");
      Deno.mkdirSync(data);
      const ingestor = createSimulator({
        statsPath: `${data}/ingestor-stats.json`,
        dbPath: `${data}/meshcore.db`,
      });
      ingestor.start(1000);
      const name = `corescope-perf-${crypto.randomUUID().slice(0, 8)}`;
      const port = freePort();
      const podman = (...args: string[]) => sh(["podman", ...args], { env });
      try {
        const run = await podman(
          "run",
          "-d",
          "--name",
          name,
          "--cap-drop=ALL",
          "--cap-add=DAC_READ_SEARCH,SETUID,SETGID",
          "--security-opt",
          "no-new-privileges",
          "--read-only",
          "-p",
          `127.0.0.1:${port}:8080`,
          "-v",
          `${data}:/app/data:ro`,
          tag,
        );
        assert.equal(run.code, 0, run.stderr);
        let hz = "";
        for (let i = 0; i < 60; i++) {
          hz = await fetch(`http://127.0.0.1:${port}/api/healthz`).then((r) => r.text(), () => "");
          if (hz.includes('"statsFile":"fresh"')) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        assert.match(hz, /"statsFile":"fresh"/, `${hz} ${(await podman("logs", name)).stderr}`);
        assert.equal(Deno.statSync(`${data}/ingestor-stats.json`).mode! & 0o777, 0o600);
        const pid = (await podman("inspect", "-f", "{{.State.Pid}}", name)).stdout.trim();
        const status = await must(["cat", `/proc/${pid}/status`]);
        assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
        assert.match(status, /^CapEff:\s+0000000000000004$/m, "CAP_DAC_READ_SEARCH alone");
        assert.match(status, /^CapPrm:\s+0000000000000004$/m);
        assert.match(status, /^NoNewPrivs:\s+1$/m);
        const sqlite = await (await fetch(`http://127.0.0.1:${port}/api/perf/sqlite`)).json();
        assert.ok(sqlite.pageCount > 0 && sqlite.error === undefined, JSON.stringify(sqlite));
        const mqtt = await (await fetch(`http://127.0.0.1:${port}/api/mqtt/status`)).text();
        assert.ok(!mqtt.includes("demo-s3cret") && mqtt.includes("ingest:****@"), mqtt);
        const write = await podman("exec", name, "/bin/sh", "-c", "echo x > /app/data/x");
        assert.notEqual(write.code, 0, "the data mount is read-only to it");
        const check = await podman("exec", name, "/etc/corescope-perf/entrypoint.sh", "check");
        assert.equal(check.code, 0, check.stdout);
        assert.match(check.stdout, /is held by a running corescope-perf \(ready/);
      } finally {
        ingestor.stop();
        await podman("rm", "-f", "-t", "0", name);
        await podman("rmi", "-f", tag);
      }
    },
  ),
);
