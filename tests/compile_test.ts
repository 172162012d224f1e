/**
 * `deno task compile` builds the binary under the printed flags. Deno downloads its runtime
 * (denort) for that; where the download is blocked the test says so and skips, and where it
 * succeeds it runs the binary and checks /api/healthz.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { serviceArgs, tempDir } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("deno task compile: a binary that serves healthz (skipped when denort cannot be fetched)", async () => {
  using dir = tempDir();
  const out = dir.path("corescope-perf");
  const env: Record<string, string> = {
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
    CORESCOPE_PERF_OUT: out,
  };
  const built = await new Deno.Command("sh", {
    args: ["deploy/compile.sh", ...serviceArgs(dir)],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(built.stderr);
  if (!built.success) {
    assert.match(
      err,
      /download|dns|lookup|network|connect|denort/i,
      `compile failed otherwise:\n${err}`,
    );
    const lines = err.split("\n").map((l) => l.trim()).filter(Boolean);
    const reason = (lines.find((l) => /dns|lookup|download/i.test(l)) ?? lines[0] ?? "failed")
      .replace(/https?:\/\/\S+/g, "the runtime archive");
    console.log(
      `skip: deno compile could not fetch its runtime here (${reason}); set DENORT_BIN to build offline`,
    );
    return;
  }
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
});
