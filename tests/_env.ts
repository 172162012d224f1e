/**
 * What this machine has, probed once per test file, so a test that needs a tool is declared
 * `ignore`d with the reason in its name (the summary counts it as ignored, never as passed).
 * `.ci/run` installs every tool and fails when any test but the allowed ones is ignored.
 */

/** Whether `cmd args` runs and exits 0. */
function runs(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const probes = new Map<string, boolean>();

/**
 * `undefined` when every tool runs here, else the reason a test needing them is ignored.
 * Each entry is `[command, ...args]` of a harmless probe (usually `--version`).
 */
export function missing(...tools: [string, ...string[]][]): string | undefined {
  const absent = tools.filter(([cmd, ...args]) => {
    const key = [cmd, ...args].join(" ");
    if (!probes.has(key)) probes.set(key, runs(cmd, args));
    return !probes.get(key);
  }).map(([cmd]) => cmd);
  return absent.length === 0 ? undefined : `${absent.join(", ")} not available`;
}

/**
 * A `Deno.test` definition that is ignored, with the reason appended to its name, when
 * `reason` is set.
 */
export function needs(
  reason: string | undefined,
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): Deno.TestDefinition {
  return reason === undefined
    ? { name, fn }
    : { name: `${name} [ignored: ${reason}]`, ignore: true, fn };
}

/** Commands the tests drive, with their probes. */
export const TOOLS = {
  chromium: ["chromium", "--headless", "--no-sandbox", "--version"],
  promtool: ["promtool", "--version"],
  prometheus: ["prometheus", "--version"],
  alertmanager: ["prometheus-alertmanager", "--version"],
  nginx: ["nginx", "-v"],
  caddy: ["caddy", "version"],
  podman: ["podman", "--version"],
  docker: ["docker", "info", "--format", "{{.ServerVersion}}"],
  dockerCompose: ["docker-compose", "version", "--short"],
  runc: ["runc", "--version"],
  debootstrap: ["debootstrap", "--version"],
  systemdAnalyze: ["systemd-analyze", "--version"],
  unshare: ["unshare", "-m", "true"],
  setpriv: ["setpriv", "--version"],
  mkfifo: ["mkfifo", "--version"],
  strace: ["strace", "-V"],
} as const satisfies Record<string, [string, ...string[]]>;

/** A free TCP port on 127.0.0.1 (bound, read and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}
