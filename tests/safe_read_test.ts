import assert from "node:assert/strict";
import {
  headKeeper,
  probeFile,
  type ProbeResult,
  RACY_MS,
  readRegularFile,
  type ReadResult,
} from "../src/base/safe_read.ts";
import { ignoredWhileMutating, tempDir } from "./_helpers.ts";
import { missing, needs, TOOLS } from "./_env.ts";
import { getJson, startService } from "./_service.ts";

const text = (r: ReturnType<typeof readRegularFile>) =>
  r.ok ? new TextDecoder().decode(r.bytes) : `!${r.failure.kind}`;

Deno.test("readRegularFile reads a regular file and reports its identity", () => {
  using t = tempDir();
  Deno.writeTextFileSync(t.path("a"), "hello");
  const r = readRegularFile(t.path("a"), 1024);
  assert.equal(text(r), "hello");
  assert.ok(r.ok && r.identity.size === 5 && r.identity.ino > 0);
});

Deno.test("readRegularFile names each refusal", () => {
  using t = tempDir();
  Deno.writeTextFileSync(t.path("big"), "x".repeat(2000));
  Deno.writeTextFileSync(t.path("edge"), "x".repeat(1000));
  Deno.mkdirSync(t.path("dir"));
  Deno.symlinkSync("/etc/passwd", t.path("outside-link"));
  Deno.symlinkSync("/dev/zero", t.path("zero-link"));
  Deno.symlinkSync(t.path("nowhere"), t.path("dangling"));
  assert.equal(text(readRegularFile(t.path("missing"), 1000)), "!missing");
  assert.equal(text(readRegularFile(t.path("big"), 1000)), "!too_large");
  assert.equal(
    text(readRegularFile(t.path("edge"), 1000)).length,
    1000,
    "exactly at the bound is fine",
  );
  assert.equal(text(readRegularFile(t.path("dir"), 1000)), "!not_regular");
  assert.equal(text(readRegularFile(t.path("outside-link"), 1000)), "!symlink");
  assert.equal(text(readRegularFile(t.path("zero-link"), 1000)), "!symlink");
  assert.equal(text(readRegularFile(t.path("dangling"), 1000)), "!symlink");
  assert.equal(text(readRegularFile("/dev/zero", 1000)), "!not_regular");
});

Deno.test(
  needs(missing(TOOLS.mkfifo), "readRegularFile refuses a FIFO at once instead of blocking", () => {
    using t = tempDir();
    assert.ok(new Deno.Command("mkfifo", { args: [t.path("fifo")] }).outputSync().success);
    const started = performance.now();
    const r = readRegularFile(t.path("fifo"), 1000);
    assert.equal(text(r), "!not_regular");
    assert.match(r.ok ? "" : r.failure.detail, /FIFO/);
    assert.ok(performance.now() - started < 100);
  }),
);

Deno.test("probeFile: a new version by rename has a new identity", () => {
  using t = tempDir();
  Deno.writeTextFileSync(t.path("f"), "one");
  const a = probeFile(t.path("f"));
  Deno.writeTextFileSync(t.path("f.tmp"), "two");
  Deno.renameSync(t.path("f.tmp"), t.path("f"));
  const b = probeFile(t.path("f"));
  assert.ok(a.ok && b.ok);
  assert.notEqual(a.identity.ino, b.identity.ino, "same size, maybe same mtime, new inode");
});

// Under `deno task mutate` the service would run the instrumented module, which reads its
// mutant's number from an environment variable the service is not granted: ignored there only
// (the unit tests above pin the refusals it shows end to end).
Deno.test(
  ignoredWhileMutating(needs(
    missing(TOOLS.strace, TOOLS.mkfifo),
    "a symlink at the stats path is never opened: strace counts no open of its FIFO target",
    async () => {
      using t = tempDir();
      assert.ok(new Deno.Command("mkfifo", { args: [t.path("target.fifo")] }).outputSync().success);
      Deno.symlinkSync(t.path("target.fifo"), t.path("s.json"));
      const trace = t.path("trace");
      const svc = await startService([
        "--port",
        "0",
        "--stats",
        t.path("s.json"),
        "--db",
        t.path("m.db"),
      ], {
        wrap: (argv) => ["strace", "-f", "-qq", "-e", "trace=openat,open", "-o", trace, ...argv],
      });
      try {
        for (let i = 0; i < 50; i++) {
          const { body } = await getJson(`${svc.base}/api/perf/write-sources`);
          assert.equal(body.stale, true);
          assert.match(body.error, /symlink: refused/);
        }
      } finally {
        // SIGTERM to strace would only detach it: stop the traced service itself.
        const pid = svc.proc.pid;
        const children = new TextDecoder().decode(
          (await new Deno.Command("cat", {
            args: [`/proc/${pid}/task/${pid}/children`],
            stdout: "piped",
          })
            .output()).stdout,
        ).trim();
        for (const child of children.split(/\s+/).filter(Boolean)) {
          Deno.kill(Number(child), "SIGTERM");
        }
        await svc.proc.status;
      }
      const opens = Deno.readTextFileSync(trace).split("\n").filter((l) =>
        l.includes("target.fifo")
      );
      assert.deepEqual(opens, [], "the link's target was opened");
    },
  )),
);

Deno.test("headKeeper reads a file's head again only when its identity changed, or was too new to tell", () => {
  const id = { dev: 1, ino: 2, size: 100, mtimeMs: 1_000_000 };
  const probe = (over: Partial<typeof id> = {}): ProbeResult => ({
    ok: true,
    identity: { ...id, ...over },
  });
  let reads = 0, fail = false, now = id.mtimeMs + RACY_MS;
  const head = headKeeper(4, () => now, (path, n, p): ReadResult => {
    reads++;
    assert.equal(n, 4);
    if (fail) return { ok: false, failure: { kind: "permission", detail: `${path}: denied` } };
    return { ok: true, bytes: new Uint8Array([reads]), identity: p!.ok ? p!.identity : id };
  });
  const first = head("/a", probe());
  assert.equal(head("/a", probe()), first, "settled at exactly RACY_MS, unchanged: kept");
  assert.equal(reads, 1);
  for (const change of [{ dev: 9 }, { ino: 9 }, { size: 9 }, { mtimeMs: id.mtimeMs - 1 }]) {
    const before: number = reads;
    head("/a", probe(change));
    assert.equal(reads, before + 1, `${JSON.stringify(change)}: read`);
    head("/a", probe());
    assert.equal(reads, before + 2, "the first identity again: read again (one is kept)");
  }
  reads = 1;
  head("/b", probe());
  assert.equal(reads, 2, "another path, the same identity: read");
  head("/a", probe());
  assert.equal(reads, 3);
  // Read within its mtime's racy window: not kept, however often it is asked.
  now = id.mtimeMs + RACY_MS - 1;
  const racy = probe({ size: 7 });
  head("/a", racy);
  head("/a", racy);
  assert.equal(reads, 5);
  // A failed reading is handed out once and not kept; nor is one under a failed lstat.
  now = id.mtimeMs + 60_000;
  fail = true;
  assert.equal(head("/a", probe({ size: 8 })).ok, false);
  fail = false;
  assert.equal(head("/a", probe({ size: 8 })).ok, true);
  assert.equal(reads, 7);
  head("/a", probe({ size: 8 }));
  assert.equal(reads, 7, "then kept");
  const gone: ProbeResult = { ok: false, failure: { kind: "missing", detail: "/a gone" } };
  head("/a", gone);
  head("/a", gone);
  assert.equal(reads, 9, "no identity, nothing to keep it by");
});
