/**
 * The runtime over real files: every bad stats file still gets a bounded, typed answer from
 * every endpoint, the valid fields are still served, and the log says what is wrong once.
 */
import assert from "node:assert/strict";
import { createApp, ROUTES } from "../src/http/routes.ts";
import { DEFAULTS } from "../src/app/config.ts";
import { createRuntime, verdictChanges } from "../src/app/runtime.ts";
import type { SourceStatusVerdict } from "../src/judge/verdicts.ts";
import { writeAtomic } from "../tools/simulator.ts";
import { captureLogger, fixtureText, isoSec, tempDir } from "./_helpers.ts";

type Setup = (path: string, dir: string) => void | Promise<void>;

const write = (text: string | Uint8Array): Setup => (path) => {
  if (typeof text === "string") Deno.writeTextFileSync(path, text);
  else Deno.writeFileSync(path, text);
};

const now = () => isoSec(Date.now());
const fresh = () => JSON.parse(fixtureText(now()));

const CASES: [string, Setup][] = [
  ["empty file", write("")],
  ["truncated JSON", (p) => Deno.writeTextFileSync(p, fixtureText(now()).slice(0, 700))],
  ["null", write("null")],
  ["an array", write("[1, 2, 3]")],
  ["a number", write("42")],
  ["every field the wrong type", (p) => {
    const doc = fresh();
    for (const k of Object.keys(doc)) doc[k] = typeof doc[k] === "string" ? 1 : "x";
    Deno.writeTextFileSync(p, JSON.stringify(doc));
  }],
  ["numbers beyond 2^53 and non-finite", (p) => {
    const text = fixtureText(now()).replace(
      '"tx_inserted": 1843201',
      '"tx_inserted": 18446744073709551615',
    )
      .replace('"obs_inserted": 7420913', '"obs_inserted": 1e999');
    Deno.writeTextFileSync(p, text);
  }],
  ["an unparseable timestamp", (p) => Deno.writeTextFileSync(p, fixtureText("yesterday at noon"))],
  [
    "a timestamp an hour in the future",
    (p) => Deno.writeTextFileSync(p, fixtureText(isoSec(Date.now() + 3600_000))),
  ],
  ["200,000-deep nesting", write(`{"procIO": ${"[".repeat(200_000)}${"]".repeat(200_000)}}`)],
  ["a 50 MB file", (p) => {
    const f = Deno.openSync(p, { write: true, create: true });
    f.truncateSync(50 * 1024 * 1024);
    f.close();
  }],
  ["binary garbage", write(crypto.getRandomValues(new Uint8Array(4096)))],
  ["a directory", (p) => Deno.mkdirSync(p)],
  ["a FIFO", async (p) => {
    const r = await new Deno.Command("mkfifo", { args: [p] }).output();
    assert.ok(r.success);
  }],
  ["a symlink to /dev/zero", (p) => Deno.symlinkSync("/dev/zero", p)],
  ["a dangling symlink", (p, dir) => Deno.symlinkSync(`${dir}/nowhere`, p)],
];

const GETS = Object.entries(ROUTES).filter(([, m]) => m.includes("GET")).map(([p]) => p);

for (const [name, setup] of CASES) {
  Deno.test(`bad stats file (${name}): every endpoint answers in time, and it is logged once`, async () => {
    using dir = tempDir();
    const statsPath = dir.path("stats.json");
    await setup(statsPath, dir.dir);
    const log = captureLogger();
    const rt = createRuntime(
      { ...DEFAULTS, statsPath, dbPath: dir.path("m.db"), procIoPath: dir.path("io") },
      log,
    );
    try {
      const app = createApp(rt.services);
      const linesAfterFirst: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (const path of GETS) {
          const t0 = performance.now();
          const res = await app.request(path);
          const ms = performance.now() - t0;
          await res.arrayBuffer();
          assert.equal(res.status, 200, `${path}: ${res.status}`);
          assert.ok(ms < 100, `${path} took ${ms.toFixed(1)} ms`);
        }
        linesAfterFirst.push(log.lines.length);
      }
      assert.equal(linesAfterFirst[1], linesAfterFirst[0], "repeat requests log nothing new");
      assert.equal(linesAfterFirst[2], linesAfterFirst[0]);
      const about = log.lines.filter((l) => /stats_file|stats_fields/.test(l));
      const expectLine = !/timestamp/.test(name); // a bad stamp is not a file problem: stale
      if (expectLine) assert.ok(about.length >= 1 && about.length <= 2, about.join("\n"));
    } finally {
      rt.close();
    }
  });
}

Deno.test("valid fields are still served beside the bad ones", async () => {
  using dir = tempDir();
  const statsPath = dir.path("stats.json");
  const doc = fresh();
  doc.tx_inserted = "lots";
  doc.writer_perf = 7;
  doc.source_statuses = "none";
  Deno.writeTextFileSync(statsPath, JSON.stringify(doc));
  const rt = createRuntime({ ...DEFAULTS, statsPath, dbPath: dir.path("m.db") }, captureLogger());
  try {
    const app = createApp(rt.services);
    const ws = await (await app.request("/api/perf/write-sources")).json();
    assert.equal(ws.sources.obs_inserted, 7420913);
    assert.equal(ws.sources.tx_inserted, undefined);
    assert.deepEqual(ws.writer_perf, {});
    const io = await (await app.request("/api/perf/io")).json();
    assert.equal(io.ingestor.writeBytesPerSec, 851968);
    const hz = await (await app.request("/api/healthz")).json();
    assert.deepEqual(Object.keys(hz.ingest_liveness), ["local", "regional"]);
  } finally {
    rt.close();
  }
});

Deno.test("a source's verdict change is logged once per change", () => {
  using dir = tempDir();
  const statsPath = dir.path("s.json");
  const writeWith = (messageAgoSec: number) => {
    const doc = fresh();
    const now = Math.floor(Date.now() / 1000);
    doc.source_liveness = {
      local: { lastReceiptUnix: now, lastMessageUnix: now },
      regional: { lastReceiptUnix: now, lastMessageUnix: now - messageAgoSec },
    };
    doc.source_statuses = [];
    // By rename, as the ingestor writes it: an in-place rewrite of the same size within one
    // mtime tick would keep the file's identity, and the change would wait for the next one.
    writeAtomic(statsPath, JSON.stringify(doc));
  };
  writeWith(900);
  const log = captureLogger();
  let mono = 0;
  const rt = createRuntime({ ...DEFAULTS, statsPath, dbPath: dir.path("m.db") }, log, {
    historyIntervalMs: 0,
    mono: () => mono,
  });
  try {
    writeWith(0);
    mono += 1000; // past the parse interval
    rt.sample();
    rt.sample(); // one more sample: nothing more is logged
    const changes = log.lines.filter((l) => l.includes("verdict:"));
    assert.deepEqual(changes.map((l) => l.replace(/^\S+ /, "")), [
      "WARN verdict: source regional: new → write_stalled",
      "INFO verdict: source regional: write_stalled → ok",
    ], "local was ok from the start: not logged");
  } finally {
    rt.close();
  }
});

Deno.test("verdict changes of sources named like Object's members are logged as such", () => {
  const log = captureLogger();
  const changes = verdictChanges(log);
  const verdicts = (c: SourceStatusVerdict, t: SourceStatusVerdict) =>
    Object.fromEntries([["constructor", c], ["toString", t]]);
  changes(verdicts("stalled", "ok"));
  changes(verdicts("ok", "stalled"));
  const text = log.lines.join("\n");
  assert.ok(!text.includes("native code"), text);
  assert.match(text, /constructor: new → stalled/);
  assert.match(text, /constructor: stalled → ok/);
  assert.match(text, /toString: ok → stalled/);
});
