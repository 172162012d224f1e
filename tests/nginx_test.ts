/**
 * deploy/nginx/corescope-perf.conf in a real nginx (Debian `nginx`), in front of this service
 * and a stand-in for the rest of CoreScope: each path lands where the README says.
 */
import assert from "node:assert/strict";
import { answers, serviceArgs, standInCoreScope, tempDir } from "./_helpers.ts";
import { freePort, missing, needs, TOOLS } from "./_env.ts";
import { getJson, startService } from "./_service.ts";

const RECIPE = new URL("../deploy/nginx/corescope-perf.conf", import.meta.url).pathname;

/** Sends half a request head to `port`; ms until the peer closed it, or Infinity by `waitMs`. */
async function halfSentFate(port: number, waitMs: number): Promise<number> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const t0 = performance.now();
  await c.write(new TextEncoder().encode("GET /api/healthz HTTP/1.1\r\nHost: x\r\n"));
  let timedOut = false;
  const timer = setTimeout(() => (timedOut = true, c.close()), waitMs);
  try {
    const buf = new Uint8Array(1024);
    while ((await c.read(buf)) !== null) { /* nginx may answer 408 before closing */ }
    clearTimeout(timer);
    c.close();
    return performance.now() - t0;
  } catch {
    clearTimeout(timer);
    // Our own timer closed it (the peer never did), or the peer reset it.
    return timedOut ? Infinity : performance.now() - t0;
  }
}

Deno.test(
  needs(
    missing(TOOLS.nginx),
    "nginx recipe: perf paths reach corescope-perf, the rest CoreScope; client_header_timeout closes half-sent requests",
    async () => {
      using dir = tempDir();
      const svc = await startService(serviceArgs(dir));
      const svcPort = Number(svc.base.split(":").at(-1));
      // The stand-in for CoreScope's server answers every path with its own name.
      const corescope = standInCoreScope();
      const port = freePort();
      const recipe = Deno.readTextFileSync(RECIPE).replaceAll(
        "127.0.0.1:8080",
        `127.0.0.1:${svcPort}`,
      );
      Deno.writeTextFileSync(dir.path("recipe.conf"), recipe);
      Deno.writeTextFileSync(
        dir.path("nginx.conf"),
        `daemon off;
pid ${dir.path("nginx.pid")};
error_log ${dir.path("error.log")};
events {}
http {
  access_log off;
  client_body_temp_path ${dir.path("tmp")};
  proxy_temp_path ${dir.path("tmp")};
  fastcgi_temp_path ${dir.path("tmp")};
  uwsgi_temp_path ${dir.path("tmp")};
  scgi_temp_path ${dir.path("tmp")};
  server {
    listen 127.0.0.1:${port};
    client_header_timeout 1s; # the README's recommendation (10s), shortened for the test
    location / { proxy_pass http://127.0.0.1:${corescope.addr.port}; }
    include ${dir.path("recipe.conf")};
  }
}
`,
      );
      Deno.mkdirSync(dir.path("tmp"));
      const nginx = new Deno.Command("nginx", {
        args: ["-p", dir.dir, "-c", dir.path("nginx.conf")],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        const base = `http://127.0.0.1:${port}`;
        const up = await answers(`${base}/`);
        assert.ok(
          up,
          `nginx did not start: ${
            (() => {
              try {
                return Deno.readTextFileSync(dir.path("error.log"));
              } catch {
                return "";
              }
            })()
          }`,
        );
        const ours = [
          "/api/perf",
          "/api/perf/io",
          "/api/perf/sqlite",
          "/api/perf/write-sources",
          "/api/healthz",
          "/api/mqtt/status",
        ];
        for (const path of ours) {
          const { res, body } = await getJson(`${base}${path}`);
          assert.equal(res.status, 200, path);
          assert.notEqual(body?.from, "corescope", `${path} must reach corescope-perf`);
        }
        const reset = await getJson(`${base}/api/perf/reset`, { method: "POST" });
        assert.equal(reset.res.status, 403, "reset reaches corescope-perf (no key configured)");
        for (const path of ["/", "/api/health", "/api/nodes", "/api/perfx"]) {
          const { body } = await getJson(`${base}${path}`);
          assert.equal(body.from, "corescope", `${path} stays with CoreScope`);
        }
        // A half-sent request: nginx closes it at client_header_timeout; the service alone
        // (Deno.serve has no header timeout) still holds it open.
        const [viaNginx, direct] = await Promise.all([
          halfSentFate(port, 4000),
          halfSentFate(svcPort, 1500),
        ]);
        assert.ok(viaNginx < 3000, `nginx closed the half-sent request after ${viaNginx} ms`);
        assert.equal(direct, Infinity, "Deno.serve alone keeps it open (the documented gap)");
      } finally {
        try {
          nginx.kill("SIGTERM");
        } catch { /* already exited */ }
        await nginx.status;
        await nginx.stderr.cancel().catch(() => {});
        await corescope.shutdown();
        await svc.stop();
      }
    },
  ),
);
