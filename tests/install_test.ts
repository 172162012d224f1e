/**
 * deploy/install-deno.sh, the `deno run` install path, into a root file system of its own
 * (--root): it finds the pinned Deno through npx when none is on PATH, says what to do when
 * neither is there, creates the directories it writes into, and lets the unit bind the
 * configured port only.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { tempDir } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A directory of links to the few commands the script needs, and `more` besides. */
function binDir(dir: string, more: string[]): string {
  Deno.mkdirSync(dir, { recursive: true });
  for (
    const c of [
      "sh",
      "bash",
      "dirname",
      "basename",
      "mkdir",
      "install",
      "rm",
      "chmod",
      "sed",
      "find",
      "cat",
      ...more,
    ]
  ) {
    const found = ["/usr/bin", "/bin", "/usr/local/bin"].map((d) => `${d}/${c}`).find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
    if (found) Deno.symlinkSync(found, `${dir}/${c}`);
  }
  return dir;
}

async function install(root: string, path: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", {
    args: ["deploy/install-deno.sh", "--root", root, "--config", "/etc/corescope-perf/config.json"],
    cwd: ROOT,
    env: { PATH: path, HOME: Deno.env.get("HOME") ?? "/root", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("install-deno.sh: the configured port in SocketBindAllow=, missing directories made, no deno is a clear error", async () => {
  using dir = tempDir();
  const root = dir.path("root");
  Deno.mkdirSync(`${root}/etc/corescope-perf`, { recursive: true });
  Deno.writeTextFileSync(
    `${root}/etc/corescope-perf/config.json`,
    JSON.stringify({ port: 9123, dbPath: "/var/lib/corescope/meshcore.db" }),
  );
  // Deno named by DENO; the root has no /etc/systemd/system or /usr/local/bin yet.
  const withDeno = await install(root, `${dirname(Deno.execPath())}:/usr/bin:/bin`, {
    DENO: Deno.execPath(),
  });
  assert.equal(withDeno.code, 0, withDeno.stderr);
  const unit = Deno.readTextFileSync(`${root}/etc/systemd/system/corescope-perf.service`);
  assert.match(unit, /^SocketBindAllow=tcp:9123$/m);
  assert.match(
    unit,
    /^ExecStart="\/usr\/local\/bin\/deno" "run" "--frozen" "--cached-only" .*"--allow-net=127\.0\.0\.1:9123" /m,
  );
  assert.ok(Deno.statSync(`${root}/usr/local/bin/deno`).isFile);
  // No deno on PATH, but npx: the pinned Deno from the npm registry is found and installed.
  const npx = await new Deno.Command("sh", { args: ["-c", "command -v npx"], stdout: "piped" })
    .output();
  const npxDir = dirname(new TextDecoder().decode(npx.stdout).trim());
  Deno.mkdirSync(`${dir.path("root3")}/etc/corescope-perf`, { recursive: true });
  Deno.copyFileSync(
    `${root}/etc/corescope-perf/config.json`,
    `${dir.path("root3")}/etc/corescope-perf/config.json`,
  );
  const viaNpx = await install(
    dir.path("root3"),
    `${binDir(dir.path("bin-npx"), ["env"])}:${npxDir}`,
  );
  assert.equal(viaNpx.code, 0, viaNpx.stderr);
  assert.ok(Deno.statSync(`${dir.path("root3")}/usr/local/bin/deno`).size > 1 << 20, "a real deno");
  // Neither deno nor npx on PATH: exit 2 with what to do.
  const bare = await install(dir.path("root2"), binDir(dir.path("bin"), []));
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(
    bare.stderr,
    /no deno found: put deno on PATH, set DENO=\/path\/to\/deno, or install Node\.js and npm/,
  );
});
