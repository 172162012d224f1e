/** `deno bench`: the hot paths in isolation (parser, cached stats read, body memo hit). */
import { memoLast } from "../src/base/memo.ts";
import { silentLogger } from "../src/base/log.ts";
import { parseProcIo } from "../src/inputs/proc_io.ts";
import { createStatsCache } from "../src/inputs/stats_cache.ts";
import { parseStatsSnapshot } from "../src/inputs/stats_snapshot.ts";

const PROC_IO = "rchar: 323934931\nwchar: 323929600\nsyscr: 632687\nsyscw: 632675\n" +
  "read_bytes: 4096\nwrite_bytes: 323932160\ncancelled_write_bytes: 0\n";
const FIXTURE = Deno.readTextFileSync(
  new URL("../tests/fixtures/ingestor-stats.json", import.meta.url),
);

Deno.bench("parseProcIo (/proc/self/io text)", () => {
  parseProcIo(PROC_IO);
});

Deno.bench("parseStatsSnapshot (the fixture, a cache miss's parse)", () => {
  parseStatsSnapshot(FIXTURE);
});

const dir = Deno.makeTempDirSync();
const path = `${dir}/stats.json`;
Deno.writeTextFileSync(path, FIXTURE);
const cache = createStatsCache({
  path,
  maxBytes: 1 << 20,
  log: silentLogger,
});
cache.get();
Deno.bench("stats cache hit (lstat + identity compare)", () => {
  cache.get();
});

const body = memoLast((state: object, tenths: number) => JSON.stringify({ state, tenths }));
Deno.bench("body memo hit (stats version and age unchanged)", () => {
  body(cache.get(), 3);
});

import { createRequestGuard } from "../src/http/request_guard.ts";
import { maskBounded } from "../src/base/mask.ts";

// What a scrape or probe sends: Host, User-Agent, Accept, and a few more.
const guard = createRequestGuard(["localhost", "127.0.0.1", "[::1]"]);
const probe = new Request("http://127.0.0.1:8080/api/healthz", {
  headers: {
    host: "127.0.0.1:8080",
    "user-agent": "Prometheus/2.53.0",
    accept: "application/json",
    "accept-encoding": "gzip",
    "x-prometheus-scrape-timeout-seconds": "10",
  },
});
Deno.bench("request guard (Host strict, allowed, the target's; body bound)", () => {
  guard(probe);
});

const hostileName = "@" + "=a:".repeat(90_000);
Deno.bench("maskBounded: a 270 KB hostile name cut to 128 characters", () => {
  maskBounded(hostileName, 128);
});

import { createRuntime } from "../src/app/runtime.ts";
import { createHandler } from "../src/http/routes.ts";
import { DEFAULTS } from "../src/app/config.ts";

// The whole per-request path in-process (guard, route, judge, body lookup, Response), against
// a bare Response of the same bytes: the difference is this service's own work per request.
const stamp = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
Deno.writeTextFileSync(path, FIXTURE.replaceAll("2026-11-23T12:00:00Z", stamp));
const rt = createRuntime(
  { ...DEFAULTS, statsPath: path, dbPath: `${dir}/none.db`, port: 0 },
  silentLogger,
  { historyIntervalMs: 0 },
);
const handle = createHandler(rt.services);
const healthz = new Request("http://127.0.0.1:8080/api/healthz", {
  headers: { host: "127.0.0.1:8080" },
});
const same = await handle(healthz).text();
const sameHeaders = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};
Deno.bench("healthz, the service's whole handler", { group: "request", baseline: false }, () => {
  handle(healthz);
});
Deno.bench(
  "healthz, a bare Response of the same bytes",
  { group: "request", baseline: true },
  () => {
    new Response(same, { headers: sameHeaders });
  },
);
