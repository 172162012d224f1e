/** Test helpers that run main.ts as a subprocess under the flags it prints. */
import assert from "node:assert/strict";

export const MAIN = new URL("../main.ts", import.meta.url).pathname;
export const DENO = Deno.execPath();

export async function run(args: string[]) {
  const out = await new Deno.Command(DENO, {
    args: ["run", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The flags main.ts prints for these arguments. */
export async function flagsFor(args: string[]): Promise<string[]> {
  const r = await run(["--allow-read", "--allow-env", MAIN, "permissions", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

/** The V8 flags production runs with (deploy/v8-flags), as `deno task start` adds them. */
export const V8_FLAGS = Deno.readTextFileSync(new URL("../deploy/v8-flags", import.meta.url))
  .trim().split("\n");

export interface Service {
  base: string;
  proc: Deno.ChildProcess;
  stderr: () => string;
  stop(signal?: Deno.Signal): Promise<{ code: number; ms: number }>;
}

export async function startService(
  args: string[],
  opts: { env?: Record<string, string>; wrap?: (argv: string[]) => string[] } = {},
): Promise<Service> {
  const flags = await flagsFor(args);
  const argv = [DENO, "run", ...V8_FLAGS, ...flags, MAIN, ...args];
  const [cmd, ...rest] = opts.wrap ? opts.wrap(argv) : argv;
  return await spawnService(cmd!, rest, { env: opts.env });
}

/** The repository's root, where `deno task start` runs. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** `deno task start` (bash deploy/start.sh, from the root) finds the Deno under test first. */
export const START_ENV = { PATH: `${DENO.replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}` };

/** Spawns `cmd` and waits for the service's listening line on its stdout. */
export async function spawnService(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Service> {
  const proc = new Deno.Command(cmd, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errText = "";
  const dec = new TextDecoder();
  (async () => {
    for await (const chunk of proc.stderr) errText += dec.decode(chunk);
  })();
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 15_000;
  while (!out.includes("\n")) {
    if (Date.now() > deadline) throw new Error(`no listening line; stderr: ${errText}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before listening; stderr: ${errText}`);
    out += dec.decode(value);
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  const m = /^corescope-perf listening on (http:\/\/[^\s/]+:(\d+)\/)\n/.exec(out);
  assert.ok(m, `listening line: ${JSON.stringify(out)}`);
  return {
    base: m[1]!.replace(/\/$/, ""),
    proc,
    stderr: () => errText,
    async stop(signal: Deno.Signal = "SIGTERM") {
      const t0 = performance.now();
      proc.kill(signal);
      const { code } = await proc.status;
      return { code, ms: performance.now() - t0 };
    },
  };
}

export async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { res, body: text ? JSON.parse(text) : undefined, text };
}
