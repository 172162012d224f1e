/** A bounded load generator for 127.0.0.1 only, shared by the load tests and the soak task. */

/** What a run saw. */
export interface LoadResult {
  requests: number;
  byStatus: Record<number, number>;
  /** Requests that failed before a status (connection errors). */
  transportErrors: number;
  /** Responses whose body could not be read or checked. */
  badBodies: string[];
}

/** Options of {@linkcode hammer}. */
export interface LoadOptions {
  base: string;
  paths: string[];
  clients: number;
  durationMs: number;
  /** Requests per second over all clients; unlimited when absent. */
  ratePerSec?: number;
  /** Checks one body; returns an error string or undefined. */
  check?: (path: string, status: number, text: string) => string | undefined;
  signal?: AbortSignal;
}

/**
 * Runs `clients` loops that GET random `paths` until `durationMs` has passed (or `signal`).
 */
export async function hammer(o: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(o.base)) {
    throw new Error(`load only targets loopback, not ${o.base}`);
  }
  const r: LoadResult = { requests: 0, byStatus: {}, transportErrors: 0, badBodies: [] };
  const deadline = performance.now() + o.durationMs;
  const gapMs = o.ratePerSec ? (1000 * o.clients) / o.ratePerSec : 0;
  const client = async (id: number) => {
    let i = id;
    while (performance.now() < deadline && !o.signal?.aborted) {
      const started = performance.now();
      const path = o.paths[i++ % o.paths.length]!;
      let res: Response;
      try {
        res = await fetch(`${o.base}${path}`);
      } catch {
        r.transportErrors++;
        if (o.signal?.aborted) break;
        await new Promise((res) => setTimeout(res, 5));
        continue;
      }
      r.requests++;
      r.byStatus[res.status] = (r.byStatus[res.status] ?? 0) + 1;
      try {
        const text = await res.text();
        const err = o.check?.(path, res.status, text);
        if (err && r.badBodies.length < 20) r.badBodies.push(`${path}: ${err}`);
      } catch (err) {
        if (r.badBodies.length < 20) r.badBodies.push(`${path}: body read failed: ${err}`);
      }
      const wait = gapMs - (performance.now() - started);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));
  return r;
}

/**
 * Resident set size (bytes) and open descriptors of a process, read from /proc/PID by a
 * shell: Deno itself reads /proc only with --allow-all, which the tests do not have.
 */
export async function procFigures(
  pid: number,
): Promise<{ rss: number; hwm: number; fds: number }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'grep -E "VmRSS|VmHWM" "/proc/$0/status"; ls "/proc/$0/fd" | wc -l', String(pid)],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1]) * 1024;
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(text)?.[1]) * 1024;
  const fds = Number(text.trim().split("\n").at(-1));
  return { rss, hwm, fds };
}
