/**
 * The README's compose path, with real Docker (Debian's docker.io and docker-compose 1.29) and
 * the real CoreScope: its image from its own Dockerfile's runtime stage (tests/_corescope.ts),
 * its own docker-compose.yml and manage.sh, our docker-compose.override.yml, Caddyfile and
 * image. Packets go into CoreScope's mosquitto; CoreScope's Caddy must route its #/perf data
 * paths to corescope-perf, and keep doing so, with nobody touching the sidecar, after each
 * thing operators do: restart `prod`, re-create it (`./manage.sh restart`, which is what
 * `./manage.sh update` ends with), restart corescope-perf, and a crash of its process.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { corescopeImage, corescopeShared, must, publish, sh } from "./_corescope.ts";
import { freePort, missing, needs, TOOLS } from "./_env.ts";
import { tempDir } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SHARED = corescopeShared();
const PATHS = [
  "/api/perf",
  "/api/perf/io",
  "/api/perf/sqlite",
  "/api/perf/write-sources",
  "/api/healthz",
  "/api/mqtt/status",
];

const reason = missing(TOOLS.docker, TOOLS.dockerCompose, TOOLS.debootstrap, TOOLS.setpriv) ??
  (SHARED ? undefined : "CoreScope's sources (../shared/corescope) not found");

/** GET through `base`; status and text, or status 0 when nothing answers. */
async function get(url: string): Promise<{ status: number; text: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, text: await r.text() };
  } catch (err) {
    return { status: 0, text: String(err) };
  }
}

/**
 * Whether every #/perf data path answers through Caddy from corescope-perf (its /api/perf/io
 * names `ioSource`, which CoreScope's own does not); with `ingest`, also over a fresh stats file
 * with every ingest verdict ok (the disk's whatever this machine has free, but read).
 */
async function served(caddy: string, ingest: boolean): Promise<string | undefined> {
  for (const path of PATHS) {
    const r = await get(`${caddy}${path}`);
    if (r.status !== 200) return `${path}: ${r.status} ${r.text.slice(0, 200)}`;
  }
  const io = JSON.parse((await get(`${caddy}/api/perf/io`)).text);
  if (io.ioSource !== "rusage") {
    return `/api/perf/io is not corescope-perf's: ${JSON.stringify(io)}`;
  }
  if (!ingest) return undefined;
  const hz = (await get(`${caddy}/api/healthz`)).text;
  const v = JSON.parse(hz).ingest;
  // The disk is read in the container too (statfs under its grant), whatever it says of this
  // machine's free space; everything else about the ingest is ok.
  const others = Object.entries(v ?? {}).filter(([k]) =>
    ["statsFile", "writes", "database", "clock", "writerLock"].includes(k)
  );
  const ok = v?.statsFile === "fresh" && v.disk !== "unknown" && v.disk !== "full" &&
    others.every(([k, x]) =>
      x === "ok" || x === "fresh" || (k !== "statsFile" && x === "unknown")
    ) &&
    Object.values(v.sources ?? {}).every((x) => x === "ok" || x === "never");
  return ok ? undefined : `healthz: ${hz}`;
}

/** Seconds from `t0` until `served` holds; fails past `limitSec`. */
async function servedWithin(
  caddy: string,
  ingest: boolean,
  t0: number,
  limitSec: number,
  what: string,
): Promise<number> {
  let last: string | undefined = "never asked";
  while (performance.now() - t0 < limitSec * 1000) {
    last = await served(caddy, ingest);
    if (last === undefined) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${limitSec} s: ${last}`);
}

/**
 * The real ingestor's own way back after `prod` starts: its MQTT connect timeout (3 s here, 30
 * by default), supervisord's restart, a first stats file. The ingest verdict can be ok no
 * sooner; this bound is CoreScope's, not ours.
 */
const INGESTOR_BACK_SEC = 75;

Deno.test(
  needs(
    reason,
    "compose beside CoreScope: #/perf served by corescope-perf through CoreScope's Caddy, again within 30 s of every restart and update, as uid 65534 with CAP_DAC_READ_SEARCH alone",
    async (t) => {
      const env = { ...Deno.env.toObject(), DENO: Deno.execPath() };
      await must(["bash", `${ROOT}deploy/container/build.sh`], { env });
      const src = await corescopeImage(SHARED!, "corescope:latest");
      await sh(["docker", "rm", "-f", "corescope-prod", "corescope-perf"]);
      using dir = tempDir("/tmp");
      const project = dir.path("corescope");
      const data = dir.path("meshcore-data");
      Deno.mkdirSync(`${project}/caddy-config`, { recursive: true });
      Deno.mkdirSync(data);
      // CoreScope's folder as manage.sh leaves it, plus the README's three steps.
      for (const f of ["docker-compose.yml", "manage.sh"]) {
        Deno.copyFileSync(`${src}/${f}`, `${project}/${f}`);
      }
      Deno.chmodSync(`${project}/manage.sh`, 0o755);
      Deno.copyFileSync(
        `${ROOT}deploy/compose/docker-compose.override.yml`,
        `${project}/docker-compose.override.yml`,
      );
      Deno.copyFileSync(`${ROOT}deploy/caddy/Caddyfile`, `${project}/caddy-config/Caddyfile`);
      Deno.writeTextFileSync(
        `${data}/.env`,
        "CORESCOPE_INGESTOR_STATS=/app/data/ingestor-stats.json\n",
      );
      Deno.writeTextFileSync(
        `${data}/config.json`,
        JSON.stringify({
          port: 3000,
          dbPath: "/app/data/meshcore.db",
          // CoreScope's own connect timeout, short: when its ingestor dials before mosquitto
          // listens (a race inside its container at every start), it gives up after this and
          // supervisord starts it again, instead of paho's 30 s retry (about 40 s to a fresh
          // stats file with the default, measured here; the verdicts are the same).
          mqttSources: [{
            name: "local",
            broker: "mqtt://localhost:1883",
            topics: ["meshcore/#"],
            connectTimeoutSec: 3,
          }],
        }),
      );
      const http = freePort(), mqtt = freePort(), perf = freePort();
      Deno.writeTextFileSync(
        `${project}/.env`,
        [
          `PROD_DATA_DIR=${data}`,
          `PROD_HTTP_PORT=${http}`,
          `PROD_HTTPS_PORT=${freePort()}`,
          `PROD_MQTT_PORT=${mqtt}`,
          `CORESCOPE_PERF_PORT=${perf}`,
          "",
        ].join("\n"),
      );
      const compose = (...args: string[]) =>
        must(["docker-compose", ...args], { cwd: project, env });
      const caddy = `http://127.0.0.1:${http}`;
      // An observer publishing all along (the broker goes away with every restart of prod).
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          await publish(mqtt, "meshcore/SEA/obs1/packets", 2).catch(() => {});
          await new Promise((r) => setTimeout(r, 400));
        }
      })();
      const perfPid = async () =>
        Number(await must(["docker", "inspect", "-f", "{{.State.Pid}}", "corescope-perf"]));
      try {
        await compose("up", "-d", "prod");
        await compose("up", "-d", "corescope-perf");
        await t.step("up: the perf paths answer from corescope-perf, ingest ok", async () => {
          const t0 = performance.now();
          await servedWithin(caddy, true, t0, INGESTOR_BACK_SEC, "first start");
        });

        await t.step(
          "least privilege: uid 65534, CAP_DAC_READ_SEARCH alone, nothing writable",
          async () => {
            const status = await must(["cat", `/proc/${await perfPid()}/status`]);
            assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
            assert.match(status, /^Groups:\s*$/m);
            for (const set of ["CapEff", "CapPrm", "CapAmb"]) {
              assert.match(status, new RegExp(`^${set}:\\s+0000000000000004$`, "m"), set);
            }
            assert.match(status, /^NoNewPrivs:\s+1$/m);
            const write = await sh(
              [
                "docker",
                "exec",
                "corescope-perf",
                "/bin/sh",
                "-c",
                "echo x > /app/data/x || echo x > /x",
              ],
            );
            assert.notEqual(write.code, 0, "the data mount and the root are read-only");
            const theirs = Deno.statSync(`${data}/ingestor-stats.json`);
            assert.equal(theirs.mode! & 0o777, 0o600);
            assert.equal(
              theirs.uid,
              0,
              "the ingestor's file is root's: read by the one capability",
            );
          },
        );

        await t.step(
          "reaching it: the host's 127.0.0.1 only; /metrics not through Caddy",
          async () => {
            const port = await must(["docker", "port", "corescope-perf", "8080"]);
            assert.deepEqual(port.trim().split("\n"), [`127.0.0.1:${perf}`]);
            const dash = await get(`http://127.0.0.1:${perf}/`);
            assert.equal(dash.status, 200);
            assert.match(dash.text, /<title>[^<]*corescope-perf/);
            const scrape = await get(`http://127.0.0.1:${perf}/metrics`);
            assert.match(scrape.text, /^corescope_ingestor_stats_file_state\{state="fresh"\} 1$/m);
            const viaCaddy = await get(`${caddy}/metrics`);
            assert.doesNotMatch(viaCaddy.text, /corescope_perf_/);
          },
        );

        await t.step("check inside the running container: exit 0, its own port named", async () => {
          const out = await compose(
            "exec",
            "-T",
            "corescope-perf",
            "/etc/corescope-perf/entrypoint.sh",
            "check",
          );
          assert.match(out, /^ok +listen: 0\.0\.0\.0:8080 is held by a running corescope-perf/m);
          assert.match(out, /^ok +stats file: \/app\/data\/ingestor-stats\.json/m);
          assert.doesNotMatch(out, /^(WARN|PROBLEM)/m);
        });

        await t.step("the healthcheck fails when the service cannot answer", async () => {
          const check = ["docker", "exec", "corescope-perf", "/etc/corescope-perf/entrypoint.sh"];
          assert.equal((await sh([...check, "wait-ready"])).code, 0);
          const pid = await perfPid();
          Deno.kill(pid, "SIGSTOP");
          try {
            const stuck = await sh([...check, "wait-ready"]);
            assert.equal(stuck.code, 1, stuck.stderr);
          } finally {
            Deno.kill(pid, "SIGCONT");
          }
        });

        const events: [string, () => Promise<unknown>][] = [
          ["docker-compose restart prod", () => compose("restart", "prod")],
          [
            "./manage.sh restart (up -d --force-recreate prod, as ./manage.sh update does)",
            () => must(["./manage.sh", "restart"], { cwd: project, env }),
          ],
          [
            "docker-compose up -d --force-recreate prod",
            () => compose("up", "-d", "--force-recreate", "prod"),
          ],
          ["docker-compose restart corescope-perf", () => compose("restart", "corescope-perf")],
          [
            "corescope-perf's process killed (SIGKILL)",
            async () => Deno.kill(await perfPid(), "SIGKILL"),
          ],
        ];
        await t.step(
          "a second writer holds the database's lock 2 s in every 4: the real ingestor's writer_perf makes it contended, before any write fails",
          async () => {
            const db = new DatabaseSync(`${data}/meshcore.db`);
            db.exec("PRAGMA busy_timeout = 10000");
            let holding = true;
            // The bursts' shape is the test's input, not a wait for an event.
            const bursts = (async () => {
              while (holding) {
                db.exec("BEGIN IMMEDIATE");
                await new Promise((r) => setTimeout(r, 2000));
                db.exec("COMMIT");
                await new Promise((r) => setTimeout(r, 2000));
              }
            })();
            try {
              let hz: Record<string, unknown> = {};
              const t0 = performance.now();
              while (performance.now() - t0 < 60_000) {
                hz = JSON.parse((await get(`${caddy}/api/healthz`)).text).ingest ?? {};
                if (hz.writerLock === "contended") break;
                await new Promise((r) => setTimeout(r, 250));
              }
              const perf = JSON.parse((await get(`${caddy}/api/perf/write-sources`)).text);
              const w = perf.writer_perf?.mqtt_handler;
              assert.equal(hz.writerLock, "contended", JSON.stringify({ hz, w }));
              assert.notEqual(hz.writes, "write_failing", "no write has failed");
              assert.ok(w.hold_ms_p99 >= 1000 || w.contention_total >= 3, JSON.stringify(w));
              console.log(
                `contended after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${
                  JSON.stringify(w)
                }`,
              );
            } finally {
              holding = false;
              await bursts;
              db.close();
            }
          },
        );

        for (const [what, act] of events) {
          await t.step(`${what}: served again within 30 s, ingest ok again`, async () => {
            const t0 = performance.now();
            await act();
            const paths = await servedWithin(caddy, false, t0, 30, `${what}: the paths`);
            const ok = await servedWithin(caddy, true, t0, INGESTOR_BACK_SEC, `${what}: ingest ok`);
            console.log(
              `${what}: paths after ${paths.toFixed(1)} s, ingest ok after ${ok.toFixed(1)} s`,
            );
          });
        }
      } finally {
        publishing = false;
        await publisher;
        const logs = await sh(["docker", "logs", "--tail", "30", "corescope-perf"]);
        if (logs.code === 0) console.log(`corescope-perf's log:\n${logs.stderr}${logs.stdout}`);
        await sh(["docker-compose", "down", "-v", "--remove-orphans"], { cwd: project, env });
      }
    },
  ),
);
