/**
 * `deno task compile` builds the binary under the printed flags. Deno downloads its runtime
 * (denort) for that; where the download is blocked the test says so and skips, and where it
 * succeeds it runs the binary and checks /api/healthz.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { serviceArgs, tempDir } from "./_helpers.ts";
import { needs } from "./_env.ts";

const ROOT = new URL("..", import.meta.url).pathname;

// deno compile needs its runtime, denort: from DENORT_BIN, from the cache, or downloaded. The
// download is blocked on this project's machines, so without the first two the test cannot
// run here: it is ignored, and says so.
const DENORT_ZIP = `denort-x86_64-unknown-linux-gnu.zip`;
function denortAvailable(): string | undefined {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  try {
    Deno.statSync(`${denoDir}/dl/release/v${Deno.version.deno}/${DENORT_ZIP}`);
    return undefined;
  } catch {
    return `no denort runtime: DENORT_BIN unset, ${DENORT_ZIP} not cached, download blocked here`;
  }
}

Deno.test(needs(denortAvailable(), "deno task compile: a binary that serves healthz", async () => {
  using dir = tempDir();
  const out = dir.path("corescope-perf");
  const env: Record<string, string> = {
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
    CORESCOPE_PERF_OUT: out,
  };
  const built = await new Deno.Command("bash", {
    args: ["deploy/compile.sh", ...serviceArgs(dir)],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  const proc = new Deno.Command(out, { stdout: "piped", stderr: "piped" }).spawn();
  try {
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    const line = new TextDecoder().decode(value);
    const m = /^corescope-perf listening on (http:\/\/\S+)\/\n/.exec(line);
    assert.ok(m, line);
    const res = await fetch(`${m[1]}/api/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).ready, true);
    reader.releaseLock();
  } finally {
    proc.kill("SIGTERM");
    assert.equal((await proc.status).code, 0);
    await proc.stdout.cancel().catch(() => {});
    await proc.stderr.cancel().catch(() => {});
  }
}));

Deno.test("compile.sh refuses a wrong runtime: DENORT_BIN=deno builds the Deno CLI, which is deleted", async () => {
  using dir = tempDir();
  const out = dir.path("corescope-perf");
  const built = await new Deno.Command("bash", {
    args: ["deploy/compile.sh", ...serviceArgs(dir)],
    cwd: ROOT,
    env: {
      PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
      CORESCOPE_PERF_OUT: out,
      DENORT_BIN: Deno.execPath(),
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(built.stderr);
  assert.equal(built.code, 1, err);
  assert.match(err, /is not corescope-perf: its --version printed 'deno /);
  assert.throws(() => Deno.statSync(out), "the wrong binary is removed");
});

Deno.test("compile.sh --help prints usage and builds nothing", async () => {
  const r = await new Deno.Command("bash", {
    args: ["deploy/compile.sh", "--help"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0);
  assert.match(new TextDecoder().decode(r.stdout), /^usage: deno task compile/);
});

Deno.test(
  needs(
    denortAvailable() === undefined ? "a denort runtime is available here" : undefined,
    "compile.sh without its runtime says where to put it",
    async () => {
      using dir = tempDir();
      const built = await new Deno.Command("bash", {
        args: ["deploy/compile.sh", ...serviceArgs(dir)],
        cwd: ROOT,
        env: {
          PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
          // An empty cache: no runtime in it, and the download is blocked here.
          DENO_DIR: dir.path("deno-dir"),
          CORESCOPE_PERF_OUT: dir.path("out"),
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(built.stderr);
      assert.equal(built.code, 1, err);
      assert.match(
        err,
        /put\ncompile\.sh: denort-x86_64-unknown-linux-gnu\.zip \(Deno \d+\.\d+\.\d+\) into/,
      );
      assert.ok(err.includes(`${dir.path("deno-dir")}/dl/release/v${Deno.version.deno}/`), err);
    },
  ),
);
