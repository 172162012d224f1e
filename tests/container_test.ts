/**
 * CoreScope's primary deployment is one container; this service runs beside it as a container
 * of its own, in CoreScope's network namespace, reading CoreScope's data mount read-only, as
 * a non-root user with one capability. Podman (Debian's, with Debian's runc) builds the image
 * with deploy/container/build.sh (no build step on the network) and runs a stand-in CoreScope
 * container and this one; every endpoint is then read from inside CoreScope's namespace.
 */
import assert from "node:assert/strict";
import { tempDir } from "./_helpers.ts";
import { missing, needs, TOOLS } from "./_env.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function sh(cmd: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  needs(
    missing(TOOLS.podman, TOOLS.runc, TOOLS.debootstrap),
    "container beside CoreScope's: its network namespace, its data mount read-only, uid 65534 with CAP_DAC_READ_SEARCH alone",
    async () => {
      using dir = tempDir("/tmp");
      // This machine's podman settings, kept to this test: runc, and the ulimits podman needs.
      const conf = dir.path("containers.conf");
      Deno.writeTextFileSync(
        conf,
        `[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n[engine]\nruntime = "runc"\n`,
      );
      const env = { CONTAINERS_CONF: conf, DENO: Deno.execPath() };
      const podman = (...args: string[]) => sh(["podman", ...args], env);
      const tag = "localhost/corescope-perf:test";
      const built = await sh(["sh", `${ROOT}deploy/container/build.sh`, "--tag", tag], env);
      assert.equal(built.code, 0, built.stderr);
      const data = dir.path("data");
      Deno.mkdirSync(data);
      const id = crypto.randomUUID().slice(0, 8);
      const cs = `corescope-${id}`, perf = `corescope-perf-${id}`;
      try {
        // The stand-in CoreScope: root, its own (loopback-only) network namespace, /app/data.
        const standin = await podman(
          "run",
          "-d",
          "--name",
          cs,
          "--network",
          "none",
          "--user",
          "0:0",
          "--entrypoint",
          "/usr/local/bin/deno",
          "-e",
          "DENO_DIR=/tmp/deno",
          "-v",
          `${data}:/app/data`,
          "-v",
          `${ROOT}:/src:ro`,
          tag,
          "run",
          "-A",
          "/src/tests/_corescope_standin.ts",
        );
        assert.equal(standin.code, 0, standin.stderr);
        // This service: CoreScope's namespace, the data mount read-only, not root, one cap.
        const ours = await podman(
          "run",
          "-d",
          "--name",
          perf,
          "--network",
          `container:${cs}`,
          "--cap-drop=ALL",
          "--cap-add=DAC_READ_SEARCH",
          "--security-opt",
          "no-new-privileges",
          "--read-only",
          "-v",
          `${data}:/app/data:ro`,
          tag,
        );
        assert.equal(ours.code, 0, ours.stderr);
        const inside = async (path: string) => {
          const r = await podman(
            "exec",
            cs,
            "/usr/local/bin/deno",
            "eval",
            `const r = await fetch("http://localhost:8080${path}"); console.log(r.status + " " + await r.text())`,
          );
          return { status: Number(r.stdout.split(" ")[0]), body: r.stdout.slice(4), err: r.stderr };
        };
        // Ready: the stats file written by root (0600) and the database are read, fresh.
        let hz = { status: 0, body: "", err: "" };
        for (let i = 0; i < 60; i++) {
          hz = await inside("/api/healthz");
          if (hz.status === 200 && JSON.parse(hz.body).ingest?.statsFile === "fresh") break;
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.equal(hz.status, 200, `${hz.body} ${hz.err} ${(await podman("logs", perf)).stderr}`);
        assert.equal(JSON.parse(hz.body).ingest.statsFile, "fresh", hz.body);
        assert.equal(Deno.statSync(`${data}/ingestor-stats.json`).mode! & 0o777, 0o600);
        for (
          const path of [
            "/api/perf/io",
            "/api/perf/write-sources",
            "/api/mqtt/status",
            "/api/perf",
            "/metrics",
          ]
        ) {
          const r = await inside(path);
          assert.equal(r.status, 200, `${path}: ${r.body}`);
        }
        const sqlite = JSON.parse((await inside("/api/perf/sqlite")).body);
        assert.ok(sqlite.pageCount > 0 && sqlite.error === undefined, JSON.stringify(sqlite));
        const mqtt = (await inside("/api/mqtt/status")).body;
        assert.ok(!mqtt.includes("demo-s3cret") && mqtt.includes("ingest:****@"), mqtt);
        // Who it runs as, and with what.
        const status = await podman("exec", perf, "sh", "-c", "id -u; grep CapEff /proc/1/status");
        assert.match(status.stdout, /^65534\n/);
        assert.match(status.stdout, /CapEff:\s+0000000000000004/, "CAP_DAC_READ_SEARCH alone");
        const write = await podman("exec", perf, "sh", "-c", "echo x > /app/data/x");
        assert.notEqual(write.code, 0, "the data mount is read-only to it");
        // CoreScope's own server is still there, on its port in the same namespace.
        const theirs = await podman(
          "exec",
          cs,
          "/usr/local/bin/deno",
          "eval",
          `console.log(await (await fetch("http://localhost:3000/api/nodes")).text())`,
        );
        assert.match(theirs.stdout, /"from":"corescope"/);
      } finally {
        await podman("rm", "-f", "-t", "0", perf);
        await podman("rm", "-f", "-t", "0", cs);
      }
    },
  ),
);
