import assert from "node:assert/strict";
import { createLogger, MAX_VALUE_CHARS } from "../src/base/log.ts";

function capture(format: "text" | "json") {
  const lines: string[] = [];
  const log = createLogger({ format, write: (l) => lines.push(l), now: () => 0 });
  return { log, lines };
}

Deno.test("text lines: timestamp, level, event, message, fields", () => {
  const { log, lines } = capture("text");
  log.log("warn", "stats_file", "gone", { path: "/tmp/x" });
  assert.deepEqual(lines, ['1970-01-01T00:00:00.000Z WARN stats_file: gone path="/tmp/x"']);
});

Deno.test("JSON lines parse, one object per event", () => {
  const { log, lines } = capture("json");
  log.log("error", "database", "locked", { ms: 100 });
  assert.deepEqual(JSON.parse(lines[0]!), {
    ts: "1970-01-01T00:00:00.000Z",
    level: "error",
    event: "database",
    msg: "locked",
    ms: 100,
  });
});

Deno.test("a persisting condition is logged when it starts, changes and ends, not per request", () => {
  const { log, lines } = capture("text");
  for (let i = 0; i < 100; i++) log.condition("db", "missing");
  log.condition("db", "locked");
  for (let i = 0; i < 100; i++) log.condition("db", undefined);
  assert.equal(lines.length, 3);
  assert.match(lines[2]!, /INFO db: resolved \(was: locked\)/);
});

Deno.test("no password reaches a log line, in either format", () => {
  for (const format of ["text", "json"] as const) {
    const { log, lines } = capture(format);
    log.log("warn", "mqtt", "dial mqtts://viewer:hunter2@broker:8883 failed", {
      broker: "mqtt://u:p@ss@[::1]:1883",
    });
    log.condition("x", "tcp://:nouser-secret@h:1 down");
    const all = lines.join("\n");
    for (const secret of ["hunter2", "p@ss", "nouser-secret"]) {
      assert.ok(!all.includes(secret), `${format}: ${all}`);
    }
  }
});

Deno.test("a forged line cannot be written: control characters are escaped in text logs", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: () => 0 });
  log.log("warn", "stats_fields", "bad name x\n2026-11-28T00:00:00.000Z INFO shutdown: stopped");
  log.log("warn", "x", "m", { name: "a\r\nb" });
  assert.equal(lines.length, 2);
  for (const l of lines) assert.doesNotMatch(l, /[\r\n]/);
  assert.match(lines[0]!, /bad name x\\n2026/);
});

Deno.test("a quoted value is cut to MAX_VALUE_CHARS; warnings per event are rate-limited", () => {
  const lines: string[] = [];
  let t = 0;
  const log = createLogger({
    write: (l) => lines.push(l),
    now: () => 0,
    mono: () => t,
    perMinute: 3,
  });
  log.log("warn", "auth", "k".repeat(900_000));
  assert.ok(lines[0]!.length < MAX_VALUE_CHARS + 100, `${lines[0]!.length} chars`);
  for (let i = 0; i < 100; i++) log.log("warn", "auth", "wrong API key");
  assert.equal(lines.length, 3, "three a minute");
  log.log("info", "other", "another event has its own budget");
  assert.equal(lines.length, 4);
  t = 60_000;
  log.log("warn", "auth", "wrong API key");
  assert.match(lines.at(-1)!, /suppressed=98/, "what was dropped is counted");
});

Deno.test("the rate limit runs on the monotonic clock: a wall clock stepped back an hour silences nothing", () => {
  const lines: string[] = [];
  let wall = Date.parse("2026-12-03T12:00:00Z"), mono = 0;
  const log = createLogger({
    write: (l) => lines.push(l),
    now: () => wall,
    mono: () => mono,
    perMinute: 1,
  });
  log.log("warn", "auth", "first");
  wall -= 3_600_000; // NTP steps the clock back
  mono += 61_000;
  log.log("warn", "auth", "second, a minute later");
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^2026-12-03T11:00:01|^2026-12-03T11:00:00/);
});

Deno.test("C1 controls and bidi overrides are escaped in text and JSON lines", () => {
  for (const format of ["text", "json"] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (l) => lines.push(l), now: () => 0 });
    log.log("warn", "liveness", "src\u009b31m \u202egnp.exe\u2066x\u0085y", { name: "\u202e" });
    const line = lines[0]!;
    assert.doesNotMatch(line, /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/, line);
    assert.match(line, /\\u009b/);
    assert.match(line, /\\u202e/);
    if (format === "json") {
      assert.equal(
        JSON.parse(line).msg,
        "src\u009b31m \u202egnp.exe\u2066x\u0085y",
        "still valid JSON",
      );
    }
  }
});
