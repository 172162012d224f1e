/**
 * Where the time and the memory go, asked of a running service through the V8 inspector
 * (Chrome DevTools Protocol over a WebSocket; the service runs with `--inspect=HOST:PORT`, or
 * `--inspect-wait` to be watched from its first allocation): a CPU profile while a load runs,
 * summed by function and by source file, and the heap at idle, summed by kind and by the
 * allocation sites of what is still alive. Development only: never part of the service.
 *
 * @module
 */

/** A connection to one inspector target. */
export interface Inspector {
  call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Events of `method` received since the call, in order. */
  events(method: string): unknown[];
  close(): void;
}

/** Connects to the first target of the inspector at `hostPort` (retrying for a second). */
export async function connect(hostPort: string): Promise<Inspector> {
  let targets: { webSocketDebuggerUrl: string }[] = [];
  for (let i = 0; i < 50 && targets.length === 0; i++) {
    targets = await fetch(`http://${hostPort}/json/list`).then((r) => r.json()).catch(() => []);
    if (targets.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, (m: Record<string, unknown>) => void>();
  const seen = new Map<string, unknown[]>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id !== undefined) pending.get(m.id)?.(m.result ?? {});
    else (seen.get(m.method) ?? seen.set(m.method, []).get(m.method)!).push(m.params);
  };
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    events: (method) => seen.get(method) ?? [],
    close: () => ws.close(),
  };
}

/** A V8 CPU profile, as the inspector returns it. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Time by frame and by file, in µs, with what was not idle. */
export interface CpuBreakdown {
  busyUs: number;
  byFunction: [string, number][];
  byFile: [string, number][];
}

/** Runs `load` under the CPU profiler (50 µs samples) and sums the samples. */
export async function cpuProfile(ins: Inspector, load: () => Promise<void>): Promise<CpuBreakdown> {
  await ins.call("Profiler.enable");
  await ins.call("Profiler.setSamplingInterval", { interval: 50 });
  await ins.call("Profiler.start");
  await load();
  const { profile } = await ins.call("Profiler.stop") as { profile: CpuProfile };
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>(), byFile = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((node, i) => {
    const f = frames.get(node)!, us = profile.timeDeltas[i] ?? 0;
    if (f.functionName === "(idle)") return;
    busyUs += us;
    const file = shortFile(f.url) || f.functionName;
    const fn = `${f.functionName || "(anonymous)"} ${file}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  });
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { busyUs, byFunction: sorted(byFunction), byFile: sorted(byFile) };
}

/** `src/http/routes.ts` for a module of ours, `ext:…` for the runtime's, as given otherwise. */
export function shortFile(url: string): string {
  const ours = /\/((?:src|tools|bench)\/[^?#]+|main\.ts)$/.exec(url);
  return ours ? ours[1]! : url;
}

/** One heap sampling profile node, as the inspector returns it. */
interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Live bytes by allocation site and by file, from a sampling heap profile. */
export interface HeapBreakdown {
  totalBytes: number;
  bySite: [string, number][];
  byFile: [string, number][];
}

/** Starts sampling allocations (every 4 KiB on average); the sites of what stays alive. */
export async function startHeapSampling(ins: Inspector): Promise<void> {
  await ins.call("HeapProfiler.enable");
  await ins.call("HeapProfiler.startSampling", { samplingInterval: 4096 });
}

/** After a full collection, the sampled live bytes by the site that allocated them. */
export async function heapSampling(ins: Inspector): Promise<HeapBreakdown> {
  await ins.call("HeapProfiler.collectGarbage");
  const { profile } = await ins.call("HeapProfiler.getSamplingProfile") as {
    profile: { head: SamplingNode };
  };
  const bySite = new Map<string, number>(), byFile = new Map<string, number>();
  let totalBytes = 0;
  const walk = (n: SamplingNode) => {
    if (n.selfSize > 0) {
      const f = n.callFrame, file = shortFile(f.url) || "(runtime)";
      const site = `${f.functionName || "(anonymous)"} ${file}${
        f.url ? `:${f.lineNumber + 1}` : ""
      }`;
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      byFile.set(file, (byFile.get(file) ?? 0) + n.selfSize);
      totalBytes += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalBytes, bySite: sorted(bySite), byFile: sorted(byFile) };
}

/** The V8 heap's use and size now (bytes). */
export async function heapUsage(ins: Inspector): Promise<{ used: number; total: number }> {
  const r = await ins.call("Runtime.getHeapUsage") as { usedSize: number; totalSize: number };
  return { used: r.usedSize, total: r.totalSize };
}

/** A heap snapshot summed: self bytes by kind of object, and the largest single strings. */
export interface SnapshotSummary {
  totalBytes: number;
  byKind: [string, number][];
  /** The largest strings (module sources among them), by their first characters. */
  largestStrings: [string, number][];
}

/** Takes a heap snapshot (after a full collection) and sums it. */
export async function heapSnapshot(ins: Inspector): Promise<SnapshotSummary> {
  await ins.call("HeapProfiler.enable");
  await ins.call("HeapProfiler.collectGarbage");
  await ins.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  const chunks = ins.events("HeapProfiler.addHeapSnapshotChunk") as { chunk: string }[];
  const snap = JSON.parse(chunks.map((c) => c.chunk).join(""));
  chunks.length = 0;
  const fields: string[] = snap.snapshot.meta.node_fields;
  const kinds: string[] = snap.snapshot.meta.node_types[0];
  const [type, name, size] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const byKind = new Map<string, number>();
  const strings: [string, number][] = [];
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const kind = kinds[snap.nodes[i + type]]!, bytes: number = snap.nodes[i + size];
    totalBytes += bytes;
    byKind.set(kind, (byKind.get(kind) ?? 0) + bytes);
    if (kind === "string" && bytes > 8192) {
      const text = String(snap.strings[snap.nodes[i + name]]);
      strings.push([text.slice(0, 70).replace(/\s+/g, " "), bytes]);
    }
  }
  return {
    totalBytes,
    byKind: [...byKind].sort((a, b) => b[1] - a[1]),
    largestStrings: strings.sort((a, b) => b[1] - a[1]).slice(0, 12),
  };
}
