/**
 * deploy/corescope-perf.service: valid for systemd, and hardened to an exposure of 2.0 or
 * better by `systemd-analyze security --offline=yes` (Debian package `systemd`).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { tempDir } from "./_helpers.ts";
import { missing, needs, TOOLS } from "./_env.ts";

const UNIT = new URL("../deploy/corescope-perf.service", import.meta.url).pathname;

async function analyze(args: string[]) {
  try {
    const out = await new Deno.Command("systemd-analyze", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } catch (err) {
    return { code: -1, text: String(err) };
  }
}

Deno.test(
  needs(
    missing(TOOLS.systemdAnalyze),
    "the systemd unit verifies and scores an exposure of 2.0 or better",
    async () => {
      using dir = tempDir();
      // verify checks that ExecStart exists; the compiled binary is not installed here.
      const copy = dir.path("corescope-perf.service");
      Deno.writeTextFileSync(
        copy,
        Deno.readTextFileSync(UNIT).replaceAll("/usr/local/bin/corescope-perf", "/bin/true"),
      );
      const verify = await analyze(["verify", copy]);
      assert.equal(verify.code, 0, verify.text);
      assert.equal(verify.text.trim(), "", `verify complained:\n${verify.text}`);
      const sec = await analyze(["security", "--offline=yes", UNIT]);
      const m = /Overall exposure level for corescope-perf\.service: (\d+\.\d+)/.exec(sec.text);
      assert.ok(m, sec.text.slice(-500));
      console.log(`systemd-analyze security: exposure ${m[1]}`);
      assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} is above 2.0`);
    },
  ),
);

Deno.test("the unit grants nothing the service does not need", () => {
  const unit = Deno.readTextFileSync(UNIT);
  assert.match(unit, /^User=/m);
  assert.doesNotMatch(
    unit,
    /^DynamicUser=yes/m,
    "the stats file is 0600, owned by the ingestor's user",
  );
  assert.match(unit, /^ProtectSystem=strict$/m);
  assert.match(unit, /^CapabilityBoundingSet=$/m);
  assert.match(unit, /^NoNewPrivileges=yes$/m);
  assert.match(unit, /^ExecStartPost=\/usr\/local\/bin\/corescope-perf wait-ready$/m, "readiness");
  // The directory, not the file: a bind-mounted /proc file stays root 0400.
  assert.match(unit, /^BindReadOnlyPaths=\/proc\/self:\/run\/corescope-perf\/self$/m);
  assert.match(unit, /^LimitNOFILE=\d+$/m);
  assert.match(unit, /^MemoryMax=256M$/m, "memory has a ceiling");
  assert.match(unit, /^MemoryHigh=192M$/m, "and reclaim starts before it");
  assert.match(unit, /^SocketBindAllow=tcp:8080$/m, "only the service's own port");
  assert.match(unit, /^SocketBindDeny=any$/m, "no debugger port, nothing else");
  // The README's other promises about the unit, one line each.
  assert.match(unit, /^PrivateDevices=yes$/m, "no real device to reach through a swapped link");
  assert.match(unit, /^ReadOnlyPaths=\/$/m, "everything read-only");
  assert.match(unit, /^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
  assert.match(unit, /^IPAddressDeny=any$/m);
  assert.match(unit, /^IPAddressAllow=localhost$/m, "localhost-only IP access");
  assert.match(unit, /^SystemCallFilter=@system-service$/m, "a system call filter");
  assert.match(unit, /^Type=exec$/m, "not notify: no sd_notify socket");
  const directives = unit.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  assert.doesNotMatch(directives, /allow-all|--allow-write|--allow-run|\s-A\s/);
});

Deno.test(
  needs(
    missing(["debootstrap", "--version"], ["systemd-nspawn", "--version"], ["flock", "--version"]),
    "a real systemd (PID 1 in systemd-nspawn) runs the unit: ready, procfs, restarts, drains",
    async () => {
      const root = new URL("..", import.meta.url).pathname;
      const out = await new Deno.Command("bash", {
        args: ["deploy/systemd-test.sh"],
        cwd: root,
        env: { PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      console.log(text.split("\n").filter((l) => /^(ok|FAIL|PASS|systemd )/.test(l)).join("\n"));
      assert.equal(out.code, 0, text.slice(-3000));
      assert.match(text, /^PASS$/m);
    },
  ),
);
