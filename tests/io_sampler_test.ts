import assert from "node:assert/strict";
import {
  chooseIoReader,
  computeRates,
  createIoSampler,
  type IoReader,
  procfsReader,
  rusageReader,
  SOURCE_FAIL_MS,
} from "../src/inputs/io_sampler.ts";
import type { IoCounters } from "../src/inputs/proc_io.ts";
import { captureLogger, tempDir } from "./_helpers.ts";

function scripted(readings: (IoCounters | undefined)[]): IoReader {
  let i = 0;
  return {
    kind: "procfs",
    read: () => {
      const r = readings[i++];
      return r ? { ok: true, counters: r } : { ok: false, detail: "read failed" };
    },
  };
}

function sampler(readings: (IoCounters | undefined)[]) {
  const clock = { mono: 0, wall: Date.parse("2026-11-23T12:00:00Z") };
  const s = createIoSampler({
    readers: [scripted(readings)],
    log: captureLogger(),
    now: () => clock.wall,
    mono: () => clock.mono,
  });
  const step = (ms: number) => {
    clock.mono += ms;
    clock.wall += ms;
    s.sample();
  };
  return { s, step };
}

const all = (n: bigint): IoCounters => ({
  read_bytes: n,
  write_bytes: n * 2n,
  cancelled_write_bytes: n,
  syscr: n,
  syscw: n,
});

Deno.test("the first sample yields zeros; the second gives per-second rates", () => {
  const { s, step } = sampler([all(1000n), all(3000n)]);
  step(0);
  assert.equal(s.rates().readBytesPerSec, 0);
  assert.equal(s.rates().windowSec, 0);
  step(2000);
  assert.deepEqual(s.rates(), {
    readBytesPerSec: 1000,
    writeBytesPerSec: 2000,
    cancelledWriteBytesPerSec: 1000,
    syscallsRead: 1000,
    syscallsWrite: 1000,
    ioSource: "procfs",
    sampledAt: "2026-11-23T12:00:02.000Z",
    windowSec: 2,
  });
});

Deno.test("a failed read is never the previous sample", () => {
  const { s, step } = sampler([all(0n), undefined, all(4000n)]);
  step(0);
  step(1000); // fails: rates unchanged, previous sample kept
  assert.equal(s.rates().readBytesPerSec, 0);
  step(1000);
  assert.equal(s.rates().readBytesPerSec, 2000, "4000 bytes over the 2 s since the last good one");
  assert.equal(s.rates().windowSec, 2);
});

Deno.test("a counter that goes backwards gives 0, never a negative rate", () => {
  const { s, step } = sampler([all(5000n), all(100n)]);
  step(0);
  step(1000);
  for (const v of Object.values(s.rates())) if (typeof v === "number") assert.ok(v >= 0);
  assert.equal(s.rates().readBytesPerSec, 0);
});

Deno.test("a key missing from either sample gives 0 for that key only", () => {
  const { s, step } = sampler([{ read_bytes: 0n }, { read_bytes: 10n, syscw: 99n }]);
  step(0);
  step(1000);
  assert.equal(s.rates().readBytesPerSec, 10);
  assert.equal(s.rates().syscallsWrite, 0);
});

Deno.test("computeRates clamps the window to at least 1 ms", () => {
  assert.equal(computeRates({ syscr: 0n }, { syscr: 1n }, 0).syscallsRead, 1000);
  assert.equal(computeRates({ syscr: 0n }, { syscr: 1n }, -3).syscallsRead, 1000);
});

Deno.test("procfs reader parses a procfs-format file; rusage is the fallback", () => {
  using t = tempDir();
  Deno.writeTextFileSync(t.path("io"), "read_bytes: 7\nwrite_bytes: 8\n");
  const r = procfsReader(t.path("io")).read();
  assert.deepEqual(r, { ok: true, counters: { read_bytes: 7n, write_bytes: 8n } });
  Deno.writeTextFileSync(t.path("empty"), "nothing here\n");
  assert.equal(procfsReader(t.path("empty")).read().ok, false);
  const log = captureLogger();
  const chosen = chooseIoReader([procfsReader(t.path("missing")), rusageReader()], log);
  assert.equal(chosen.kind, "rusage");
  assert.match(log.lines[0]!, /WARN io_source: using rusage \(procfs: .* does not exist\)/);
});

Deno.test("rusage reader turns 512-byte blocks into bytes", () => {
  const r = rusageReader(() => ({ fsRead: 3, fsWrite: 4 })).read();
  assert.deepEqual(r, { ok: true, counters: { read_bytes: 1536n, write_bytes: 2048n } });
});

Deno.test("with no readable source, ioSource is 'none' and rates stay 0", () => {
  const bad: IoReader = { kind: "procfs", read: () => ({ ok: false, detail: "no" }) };
  const chosen = chooseIoReader([bad], captureLogger());
  assert.equal(chosen.kind, "none");
  const s = createIoSampler({ readers: [chosen], log: captureLogger() });
  s.sample();
  assert.equal(s.rates().ioSource, "none");
  assert.equal(s.rates().writeBytesPerSec, 0);
});

Deno.test("after a failure the sampler falls back, retries the better source, and logs each switch", () => {
  let procfsUp = false, t = 0;
  const procfs: IoReader = {
    kind: "procfs",
    read: () => procfsUp ? { ok: true, counters: all(BigInt(t)) } : { ok: false, detail: "EACCES" },
  };
  const rusage: IoReader = { kind: "rusage", read: () => ({ ok: true, counters: all(1n) }) };
  const log = captureLogger();
  const s = createIoSampler({ readers: [procfs, rusage], log, mono: () => t, retryMs: 10_000 });
  s.sample();
  assert.equal(s.rates().ioSource, "rusage");
  procfsUp = true;
  t = 5_000;
  s.sample();
  assert.equal(s.rates().ioSource, "rusage", "not retried before retryMs");
  t = 10_000;
  s.sample();
  assert.equal(s.rates().ioSource, "procfs");
  assert.ok(log.lines.some((l) => /io_source: rusage → procfs/.test(l)), log.lines.join("\n"));
  procfsUp = false;
  t = 11_000;
  s.sample();
  assert.equal(s.rates().ioSource, "rusage");
  assert.ok(log.lines.some((l) => /procfs → rusage \(EACCES\)/.test(l)));
});

Deno.test("an empty read, or one with none of the counters, is no switch: the last good sample stays, the next good read is compared with it", () => {
  using dir = tempDir();
  const io = dir.path("io");
  const log = captureLogger();
  let t = 0;
  const rusage: IoReader = { kind: "rusage", read: () => ({ ok: true, counters: all(1n) }) };
  const s = createIoSampler({ readers: [procfsReader(io), rusage], log, mono: () => t });
  const write = (text: string) => Deno.writeTextFileSync(io, text);
  write("read_bytes: 0\nwrite_bytes: 0\n");
  s.sample();
  t = 1000;
  write("read_bytes: 1000\nwrite_bytes: 1000\n");
  s.sample();
  const good = s.rates();
  assert.equal(good.readBytesPerSec, 1000);
  // CoreScope's ParseProcIO_EmptyDoesNotMarkOK and ..._NoKnownKeysDoesNotMarkOK, replayed.
  for (const bad of ["", "rchar: 5\nwchar: 7\n"]) {
    t += 1000;
    write(bad);
    s.sample();
    assert.equal(s.rates(), good, `${JSON.stringify(bad)}: the last good sample is served`);
    assert.equal(s.rates().ioSource, "procfs", "no switch");
  }
  t += 1000; // 3 s after the last good read
  write("read_bytes: 7000\nwrite_bytes: 7000\n");
  s.sample();
  assert.equal(s.rates().readBytesPerSec, 2000, "6000 bytes over the 3 s since the last good one");
  assert.equal(s.rates().windowSec, 3);
  // A source that stays bad for SOURCE_FAIL_MS is given up.
  write("");
  for (let i = 0; i <= SOURCE_FAIL_MS / 1000; i++) {
    t += 1000;
    s.sample();
  }
  assert.equal(s.rates().ioSource, "rusage");
  // A source that is gone is given up at once.
  const s2 = createIoSampler({ readers: [procfsReader(io), rusage], log, mono: () => t });
  write("read_bytes: 1\n");
  s2.sample();
  Deno.removeSync(io);
  t += 1000;
  s2.sample();
  assert.equal(s2.rates().ioSource, "rusage");
});
