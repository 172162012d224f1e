/** Drives tests/_h2c_client.mjs (Node's HTTP/2 client with prior knowledge) from a test. */

/** Many HTTP/2 streams that never read their answers, held open until `close`. */
export interface H2cAttack {
  /** Response statuses once every stream has its head: `{ "200": n, "503": m }`. */
  statuses: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Opens `conns` connections of `streams` streams each to `path` on 127.0.0.1:`port`, with
 * `host` as the Host header (none when undefined), and resolves once every stream has its
 * response head.
 */
export async function h2cStreams(
  port: number,
  path: string,
  host: string | undefined,
  streams: number,
  conns = 3,
): Promise<H2cAttack> {
  const child = new Deno.Command("node", {
    args: [
      new URL("./_h2c_client.mjs", import.meta.url).pathname,
      `http://127.0.0.1:${port}`,
      path,
      host ?? "",
      String(conns),
      String(streams),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  return {
    statuses: JSON.parse(out.slice(out.indexOf("{"))) as Record<string, number>,
    async close() {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
  };
}
