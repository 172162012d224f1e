/**
 * deploy/caddy/Caddyfile in a real Caddy (Debian `caddy`), as CoreScope's container runs it:
 * in front of this service and a stand-in for CoreScope's server, each path lands where the
 * file says, with the client's own Host (the name CoreScope's users browse to).
 */
import assert from "node:assert/strict";
import { answers, serviceArgs, standInCoreScope, tempDir } from "./_helpers.ts";
import { freePort, missing, needs, TOOLS } from "./_env.ts";
import { getJson, startService } from "./_service.ts";

const CADDYFILE = new URL("../deploy/caddy/Caddyfile", import.meta.url).pathname;

/** GET `path` with exactly this `Host` (fetch would send its own), over a raw socket. */
async function rawGet(port: number, path: string, host: string) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(65536);
    for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    c.close();
  }
}

Deno.test(
  needs(
    missing(TOOLS.caddy),
    "Caddy recipe: perf paths reach corescope-perf, the rest (and /metrics) CoreScope, whatever Host the browser sends",
    async () => {
      using dir = tempDir();
      const svc = await startService(serviceArgs(dir));
      const svcPort = Number(svc.base.split(":").at(-1));
      const corescope = standInCoreScope();
      const port = freePort();
      // The shipped site on test ports; the test's own Caddy has no admin port or HTTPS.
      const site = Deno.readTextFileSync(CADDYFILE)
        .split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n")
        .replace(":80 {", `:${port} {`)
        .replace("corescope-perf:8080", `127.0.0.1:${svcPort}`)
        .replace("localhost:3000", `127.0.0.1:${corescope.addr.port}`);
      Deno.writeTextFileSync(dir.path("Caddyfile"), `{\n\tadmin off\n\tauto_https off\n}\n${site}`);
      const caddy = new Deno.Command("caddy", {
        args: ["run", "--config", dir.path("Caddyfile"), "--adapter", "caddyfile"],
        env: { HOME: dir.dir, XDG_DATA_HOME: dir.path("data"), XDG_CONFIG_HOME: dir.path("cfg") },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const errors = (async () => {
        let text = "";
        for await (const c of caddy.stderr.pipeThrough(new TextDecoderStream())) text += c;
        return text;
      })();
      try {
        const base = `http://127.0.0.1:${port}`;
        const up = await answers(`${base}/`);
        if (!up) {
          caddy.kill("SIGTERM");
          assert.fail(`caddy did not start: ${(await errors).slice(-2000)}`);
        }
        const ours = [
          "/api/perf",
          "/api/perf/io",
          "/api/perf/sqlite",
          "/api/perf/write-sources",
          "/api/healthz",
          "/api/mqtt/status",
        ];
        for (const path of ours) {
          // A browser on CoreScope's public name: Caddy must not pass that Host on.
          const { status, body } = await rawGet(port, path, "corescope.example.org");
          assert.equal(status, 200, `${path}: ${body}`);
          assert.ok(!body.includes('"from":"corescope"'), `${path} must reach corescope-perf`);
        }
        // The scrape stays private: /metrics is not routed to this service.
        for (const path of ["/", "/api/health", "/api/nodes", "/api/perfx", "/metrics"]) {
          const { body } = await getJson(`${base}${path}`);
          assert.equal(body.from, "corescope", `${path} stays with CoreScope`);
        }
        // CoreScope's #/perf page reads /api/perf: this service's own request statistics.
        const perf = await getJson(`${base}/api/perf`);
        assert.ok(perf.body.endpoints["/api/perf/io"], "requests through Caddy counted here");
      } finally {
        caddy.kill("SIGTERM");
        await caddy.status;
        await errors;
        await corescope.shutdown();
        await svc.stop();
      }
    },
  ),
);
