import assert from "node:assert/strict";
import { DEFAULTS } from "../src/app/config.ts";
import { FORBIDDEN_FLAGS, permissionFlags, SYS_GRANT } from "../src/app/permissions.ts";
import { DatabaseSync } from "node:sqlite";
import { fixtureText, isoSec, tempDir } from "./_helpers.ts";
import { flagsFor, getJson, startService } from "./_service.ts";
import { missing, needs, TOOLS } from "./_env.ts";

const cfg = { ...DEFAULTS, statsPath: "/tmp/s.json", dbPath: "/data/m.db" };

Deno.test("the flags name exact paths, one address, and the env variables read", () => {
  assert.deepEqual(permissionFlags(cfg), [
    "--allow-read=/tmp/s.json,/data/m.db,/data/m.db-wal,/data/m.db-shm",
    "--allow-net=127.0.0.1:8080",
    "--allow-env=CORESCOPE_INGESTOR_STATS,CORESCOPE_PERF_API_KEY",
    "--allow-sys=statfs",
  ]);
});

Deno.test("procIoPath outside /proc is granted; under /proc it is not (Deno refuses it anyway)", () => {
  assert.ok(
    permissionFlags({ ...cfg, procIoPath: "/run/corescope-perf/self/io" })[0]!.endsWith(
      ",/run/corescope-perf/self/io,/run/corescope-perf/self/fd,/run/corescope-perf/self/limits",
    ),
    "the bound directory's io, and its fd and limits for the process_* descriptor figures",
  );
  assert.ok(!permissionFlags(cfg)[0]!.includes("/proc"));
  // Empty: getrusage by choice (a container), nothing more to read.
  assert.equal(
    permissionFlags({ ...cfg, procIoPath: "" })[0],
    permissionFlags(cfg)[0],
  );
  assert.ok(!permissionFlags({ ...cfg, procIoPath: "" })[0]!.includes(",,"));
});

Deno.test("the config file is granted when used; IPv6 and port 0 are written as Deno expects", () => {
  assert.ok(permissionFlags(cfg, { configPath: "/etc/cp.json" })[0]!.endsWith(",/etc/cp.json"));
  assert.equal(permissionFlags({ ...cfg, host: "::1", port: 9000 })[1], "--allow-net=[::1]:9000");
  assert.equal(permissionFlags({ ...cfg, port: 0 })[1], "--allow-net=127.0.0.1");
});

Deno.test("nothing from the forbidden list, and no bare grant", () => {
  for (const flag of permissionFlags({ ...cfg, procIoPath: "/run/x" }, { configPath: "/c.json" })) {
    for (const bad of FORBIDDEN_FLAGS) {
      if (flag === SYS_GRANT) continue;
      assert.ok(!flag.startsWith(bad), `${flag} starts with ${bad}`);
    }
    assert.match(
      flag,
      /^--allow-(read|net|env)=\S+$|^--allow-sys=statfs$/,
      `${flag} is not scoped`,
    );
  }
});

Deno.test("a path with a comma cannot be granted exactly and is refused", () => {
  assert.throws(() => permissionFlags({ ...cfg, dbPath: "/data/a,b.db" }), /comma/);
});

// ---- Under real Deno: the printed grants are enough, and nothing outside them is touched.

const ENDPOINTS = [
  "/api/perf/io",
  "/api/perf/sqlite",
  "/api/perf/write-sources",
  "/api/healthz",
  "/api/mqtt/status",
];

Deno.test("audit: every endpoint works under the printed flags; every access is inside them", async () => {
  using dir = tempDir();
  const statsPath = dir.path("stats.json");
  const dbPath = dir.path("m.db");
  const cfgPath = dir.path("cfg.json");
  const audit = dir.path("audit.jsonl");
  const db = new DatabaseSync(dbPath);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  Deno.writeTextFileSync(statsPath, fixtureText(isoSec(Date.now())));
  Deno.writeTextFileSync(cfgPath, JSON.stringify({ port: 0, ioSampleMs: 200 }));
  const args = ["--config", cfgPath, "--stats", statsPath, "--db", dbPath];
  const flags = await flagsFor(args);
  const svc = await startService(args, { env: { DENO_AUDIT_PERMISSIONS: audit } });
  try {
    for (const path of ENDPOINTS) {
      const { res, body } = await getJson(`${svc.base}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(body.error, undefined, `${path}: ${body.error}`);
    }
    const { body } = await getJson(`${svc.base}/api/perf/sqlite`);
    assert.ok(body.pageCount > 0 && body.pageSize === 4096);
  } finally {
    assert.equal((await svc.stop()).code, 0);
    db.close();
  }
  const grants = Object.fromEntries(flags.map((f) => {
    const [name, value] = f.replace(/^--allow-/, "").split("=") as [string, string];
    return [name, value.split(",")];
  }));
  const entries = Deno.readTextFileSync(audit).trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(entries.length > 0, "the audit log recorded accesses");
  const kinds = new Set<string>();
  for (const e of entries) {
    kinds.add(e.permission);
    const granted: string[] = grants[e.permission] ?? [];
    const port = Number(svc.base.split(":").at(-1));
    const ok = e.permission === "net"
      ? granted.some((g) => e.value === g || e.value === `${g}:${port}` || e.value === `${g}:0`)
      : granted.includes(e.value);
    assert.ok(ok, `audited ${e.permission} ${e.value} is outside ${granted.join(",")}`);
  }
  assert.ok(kinds.has("read"), "reads were audited");
  assert.ok(kinds.has("sys"), "the disk's statfs was audited, inside --allow-sys=statfs");
});

Deno.test(
  needs(
    missing(TOOLS.unshare),
    "bind mount of /proc/<pid> (the directory, as the unit does): procIoPath is read with a scoped grant (ioSource procfs)",
    async (t) => {
      using dir = tempDir();
      const selfDir = dir.path("self");
      Deno.mkdirSync(selfDir);
      const ioPath = `${selfDir}/io`;
      const statsPath = dir.path("stats.json");
      const cfgPath = dir.path("cfg.json");
      Deno.writeTextFileSync(cfgPath, JSON.stringify({ port: 0, ioSampleMs: 200 }));
      const args = [
        "--config",
        cfgPath,
        "--stats",
        statsPath,
        "--db",
        dir.path("m.db"),
        "--proc-io",
        ioPath,
      ];
      // sh binds its own /proc/$$ directory (as the unit's BindReadOnlyPaths=/proc/self:…),
      // then exec keeps the pid: the service reads its own counters through the grant.
      const svc = await startService(args, {
        wrap: (argv) => [
          "unshare",
          "-m",
          "sh",
          "-c",
          'mount --bind "/proc/$$" "$0" && exec "$@"',
          selfDir,
          ...argv,
        ],
      });
      try {
        await t.step("ioSource is procfs", async () => {
          const { body } = await getJson(`${svc.base}/api/perf/io`);
          assert.equal(body.ioSource, "procfs", svc.stderr());
        });
        await t.step("rates move when the process reads", async () => {
          let moved = false;
          const deadline = Date.now() + 5000;
          while (!moved && Date.now() < deadline) {
            Deno.writeTextFileSync(statsPath, fixtureText(isoSec(Date.now())));
            await getJson(`${svc.base}/api/perf/write-sources`); // a new version: open + read
            const { body } = await getJson(`${svc.base}/api/perf/io`);
            moved = body.syscallsRead > 0 && body.windowSec > 0;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.ok(moved, "syscallsRead stayed 0");
        });
      } finally {
        assert.equal((await svc.stop()).code, 0);
      }
    },
  ),
);

/**
 * Runs the service the way systemd runs the unit: root sets up the bind mount in a new mount
 * namespace, then the process drops to another user (65534) and execs, keeping its pid. That
 * user must be able to read Deno, the code and the npm cache, so they are copied into a
 * directory it can read. Returns what `/api/perf/io` says about `ioSource`.
 */
async function ioSourceAsAnotherUser(bind: "dir" | "file"): Promise<string> {
  // Under /tmp, not TMPDIR: a private TMPDIR (0700) is a wall the other user cannot pass.
  using dir = tempDir("/tmp");
  Deno.chmodSync(dir.dir, 0o755);
  const root = new URL("..", import.meta.url).pathname;
  const app = dir.path("app");
  Deno.mkdirSync(app, { recursive: true });
  for (const f of ["main.ts", "deno.json", "deno.lock"]) {
    Deno.copyFileSync(`${root}${f}`, `${app}/${f}`);
  }
  await new Deno.Command("cp", { args: ["-r", `${root}src`, `${app}/src`] }).output();
  const deno = dir.path("deno");
  Deno.copyFileSync(Deno.execPath(), deno);
  Deno.chmodSync(deno, 0o755);
  const denoDir = dir.path("deno_dir");
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  Deno.mkdirSync(denoDir, { recursive: true });
  await new Deno.Command("cp", { args: ["-r", `${cache}/npm`, denoDir] }).output();
  await new Deno.Command("chown", { args: ["-R", "65534:65534", denoDir] }).output();
  const selfDir = dir.path("self");
  Deno.mkdirSync(selfDir);
  const ioPath = bind === "dir" ? `${selfDir}/io` : dir.path("self-io");
  if (bind === "file") Deno.writeTextFileSync(ioPath, "");
  const mount = bind === "dir" ? 'mount --bind "/proc/$$" "$0"' : 'mount --bind "/proc/$$/io" "$0"';
  const args = [
    "--port",
    "0",
    "--stats",
    dir.path("s.json"),
    "--db",
    dir.path("m.db"),
    "--proc-io",
    ioPath,
  ];
  const svc = await startService(args, {
    env: { DENO_DIR: denoDir, HOME: dir.dir },
    wrap: ([, run, ...rest]) => [
      "unshare",
      "-m",
      "sh",
      "-c",
      `${mount} && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"`,
      bind === "dir" ? selfDir : ioPath,
      deno,
      run!,
      "--cached-only",
      ...rest.map((a) => (a.endsWith("/main.ts") ? `${app}/main.ts` : a)),
    ],
  });
  try {
    const { body } = await getJson(`${svc.base}/api/perf/io`);
    return body.ioSource;
  } finally {
    await svc.stop();
  }
}

Deno.test(
  needs(
    missing(TOOLS.unshare, TOOLS.setpriv),
    "as systemd does it (bind as root, run as another user): the /proc/self directory bind is readable, a file bind is not",
    async () => {
      assert.equal(await ioSourceAsAnotherUser("dir"), "procfs", "the unit's directory bind");
      assert.equal(
        await ioSourceAsAnotherUser("file"),
        "rusage",
        "a bind-mounted /proc file stays root 0400: the old unit's file bind fails",
      );
    },
  ),
);
