/**
 * The real CoreScope, as a Docker image its own docker-compose.yml runs: the sources at the
 * pinned commit (`../shared/corescope/`, or CORESCOPE_SHARED), the real ingestor and server
 * built by its `build.sh`, and the runtime stage of its own Dockerfile on a Debian root file
 * system (debootstrap, cached) with the packages that stage installs from Alpine: mosquitto,
 * supervisor, caddy, wget. The only changes to that stage are the ones the base requires
 * (each asserted, so a new Dockerfile that no longer matches fails loudly): the Go binaries
 * come from the build folder instead of the builder stage, Debian's caddy is linked where
 * Alpine's lives, and no `apk` runs.
 */
import { existsSync } from "node:fs";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where CoreScope's sources and build.sh are, if anywhere. */
export function corescopeShared(): string | undefined {
  const candidates = [
    Deno.env.get("CORESCOPE_SHARED"),
    `${ROOT}../shared/corescope`,
    "/work/shared/corescope",
  ];
  return candidates.find((d) => d && existsSync(`${d}/build.sh`) && existsSync(`${d}/COMMIT`));
}

/** Runs a command; its output, and a failure with its stderr's tail when it fails. */
export async function sh(
  cmd: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: Uint8Array } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command that must succeed; its stdout. */
export async function must(cmd: string[], opts: Parameters<typeof sh>[1] = {}): Promise<string> {
  const r = await sh(cmd, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd.join(" ")}: exit ${r.code}\n${(r.stderr + r.stdout).slice(-3000)}`);
  }
  return r.stdout;
}

const CACHE = Deno.env.get("CORESCOPE_ROOTFS_CACHE") ?? "/var/cache/corescope-perf";
const PACKAGES = "mosquitto,supervisor,caddy,wget,libsqlite3-0";

/** The Debian root the image stands on (debootstrap once, cached, under a lock). */
async function rootfs(): Promise<string> {
  const dir = `${CACHE}/corescope-bookworm`;
  await must(["mkdir", "-p", CACHE]);
  await must([
    "flock",
    `${dir}.lock`,
    "bash",
    "-c",
    `
    set -e
    if [ ! -x "${dir}/usr/sbin/mosquitto" ]; then
      rm -rf "${dir}.tmp"
      debootstrap --variant=minbase --include=${PACKAGES} bookworm "${dir}.tmp" \\
        http://deb.debian.org/debian >/dev/null
      mv "${dir}.tmp" "${dir}"
    fi`,
  ]);
  return dir;
}

/** CoreScope's Dockerfile runtime stage, on the Debian base; each change asserted. */
export function runtimeStage(dockerfile: string, base: string): string {
  const at = dockerfile.indexOf("\nFROM alpine");
  if (at === -1) throw new Error("CoreScope's Dockerfile has no `FROM alpine` runtime stage");
  let stage = dockerfile.slice(at + 1);
  const swap = (from: RegExp, to: string) => {
    if (!from.test(stage)) throw new Error(`CoreScope's runtime stage no longer has ${from}`);
    stage = stage.replace(from, to);
  };
  swap(/^FROM alpine\S*$/m, `FROM ${base}`);
  swap(/^RUN apk add .*$/m, "# (packages: in the Debian base)");
  swap(
    /^COPY --from=builder \/corescope-server \/corescope-ingestor \/corescope-decrypt \/app\/$/m,
    "COPY corescope-server corescope-ingestor /app/",
  );
  swap(/^(RUN mkdir -p \/app\/data)/m, "RUN ln -s /usr/bin/caddy /usr/sbin/caddy\n$1");
  return stage;
}

/**
 * Builds (once) the image `tag` from CoreScope at `shared`: binaries from its build.sh, the
 * runtime stage from its Dockerfile. Returns the folder of its extracted sources.
 */
export async function corescopeImage(shared: string, tag: string): Promise<string> {
  const commit = Deno.readTextFileSync(`${shared}/COMMIT`).trim();
  const bin = (await must(["bash", `${shared}/build.sh`])).trim().split("\n").at(-1)!;
  const src = `${CACHE}/corescope-src-${commit}`;
  if (!existsSync(`${src}/Dockerfile`)) {
    await must(["mkdir", "-p", `${src}.tmp`]);
    await must(["tar", "-xJf", `${shared}/corescope-src.tar.xz`, "-C", `${src}.tmp`]);
    // The archive holds one top folder, or the tree itself.
    const top = [...Deno.readDirSync(`${src}.tmp`)];
    const inner = top.length === 1 && top[0]!.isDirectory ? `${src}.tmp/${top[0]!.name}` : "";
    await must(["bash", "-c", `rm -rf "${src}" && mv "${inner || `${src}.tmp`}" "${src}"`]);
    await sh(["rm", "-rf", `${src}.tmp`]);
  }
  const base = "corescope-debian-base:bookworm";
  if ((await sh(["docker", "image", "inspect", base])).code !== 0) {
    const root = await rootfs();
    await must(["bash", "-c", `tar -C "${root}" -c . | docker import - ${base}`]);
  }
  const context = Deno.makeTempDirSync({ prefix: "corescope-image-" });
  try {
    await must(["cp", "-r", `${src}/.`, context]);
    await must(["cp", `${bin}/corescope-server`, `${bin}/corescope-ingestor`, context]);
    Deno.writeTextFileSync(
      `${context}/Dockerfile.debian`,
      runtimeStage(Deno.readTextFileSync(`${src}/Dockerfile`), base),
    );
    await must([
      "docker",
      "build",
      "--network",
      "none",
      "-q",
      "-f",
      "Dockerfile.debian",
      "-t",
      tag,
      ".",
    ], {
      cwd: context,
    });
  } finally {
    Deno.removeSync(context, { recursive: true });
  }
  return src;
}

/**
 * A MeshCore packet as an observer publishes it: a direct TXT_MSG (header 0x0A, no path)
 * whose 18 bytes after the two hashes are new each time, so each is a new transmission.
 */
export function packet(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  return JSON.stringify({ raw: `0A00D69F${hex}`, SNR: 5.5, RSSI: -100 });
}

/** MQTT 3.1.1's remaining length. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (s: string) => [utf8(s).length >> 8, utf8(s).length & 255, ...utf8(s)];

/**
 * Publishes `count` packets to the broker at 127.0.0.1:`port` on `topic` over one MQTT 3.1.1
 * connection (QoS 0): connect, wait for the CONNACK, publish, disconnect. Throws when the
 * broker is not there or refuses.
 */
export async function publish(port: number, topic: string, count: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const id = `corescope-perf-test-${crypto.randomUUID().slice(0, 8)}`;
    const vh = [...str("MQTT"), 4, 0x02, 0, 30, ...str(id)];
    await conn.write(new Uint8Array([0x10, ...varint(vh.length), ...vh]));
    const ack = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await conn.read(ack.subarray(got));
      if (n === null) throw new Error("the broker closed the connection");
      got += n;
    }
    if (ack[0] !== 0x20 || ack[3] !== 0) throw new Error(`CONNACK refused: ${ack}`);
    for (let i = 0; i < count; i++) {
      const body = [...str(topic), ...utf8(packet())];
      await conn.write(new Uint8Array([0x30, ...varint(body.length), ...body]));
    }
    await conn.write(new Uint8Array([0xe0, 0]));
  } finally {
    conn.close();
  }
}
