import assert from "node:assert/strict";
import { DEFAULTS } from "../src/config.ts";
import { FORBIDDEN_FLAGS, permissionFlags } from "../src/permissions.ts";

const cfg = { ...DEFAULTS, statsPath: "/tmp/s.json", dbPath: "/data/m.db" };

Deno.test("the flags name exact paths, one address, and the env variables read", () => {
  assert.deepEqual(permissionFlags(cfg), [
    "--allow-read=/tmp/s.json,/data/m.db,/data/m.db-wal,/data/m.db-shm",
    "--allow-net=127.0.0.1:8080",
    "--allow-env=CORESCOPE_INGESTOR_STATS",
  ]);
});

Deno.test("procIoPath outside /proc is granted; under /proc it is not (Deno refuses it anyway)", () => {
  assert.ok(
    permissionFlags({ ...cfg, procIoPath: "/run/corescope-perf/self-io" })[0]!.endsWith(
      ",/run/corescope-perf/self-io",
    ),
  );
  assert.ok(!permissionFlags(cfg)[0]!.includes("/proc"));
});

Deno.test("the config file is granted when used; IPv6 and port 0 are written as Deno expects", () => {
  assert.ok(permissionFlags(cfg, { configPath: "/etc/cp.json" })[0]!.endsWith(",/etc/cp.json"));
  assert.equal(permissionFlags({ ...cfg, host: "::1", port: 9000 })[1], "--allow-net=[::1]:9000");
  assert.equal(permissionFlags({ ...cfg, port: 0 })[1], "--allow-net=127.0.0.1");
});

Deno.test("nothing from the forbidden list, and no bare grant", () => {
  for (const flag of permissionFlags({ ...cfg, procIoPath: "/run/x" }, { configPath: "/c.json" })) {
    for (const bad of FORBIDDEN_FLAGS) {
      assert.ok(!flag.startsWith(bad), `${flag} starts with ${bad}`);
    }
    assert.match(flag, /^--allow-(read|net|env)=\S+$/, `${flag} is not scoped`);
  }
});

Deno.test("a path with a comma cannot be granted exactly and is refused", () => {
  assert.throws(() => permissionFlags({ ...cfg, dbPath: "/data/a,b.db" }), /comma/);
});
