import assert from "node:assert/strict";
import { type Cli, ConfigError, DEFAULTS, loadConfig, parseCli } from "../src/app/config.ts";

const noFile = { readTextFile: () => "{}", env: () => undefined };

function load(cli: Cli, file = "{}", env: Record<string, string> = {}) {
  return loadConfig(cli, { readTextFile: () => file, env: (n) => env[n] });
}

function throwsKey(fn: () => unknown, key: string) {
  assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.key === key);
}

Deno.test("defaults match the documented ones", () => {
  const cfg = loadConfig(parseCli([]), noFile);
  assert.deepEqual(cfg, { ...DEFAULTS });
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.port, 8080);
  assert.equal(cfg.staleAfterMs, 5000);
  assert.deepEqual(cfg.allowedHosts, []);
  assert.equal(cfg.maxStatsBytes, 262144);
});

Deno.test("config.example.json is valid and documents every key", () => {
  const text = Deno.readTextFileSync(new URL("../config.example.json", import.meta.url));
  const cfg = load({ command: "serve", flags: {}, configPath: "x" }, text);
  assert.deepEqual(cfg, { ...DEFAULTS }, "the example holds the defaults");
  const doc = JSON.parse(text);
  for (const key of Object.keys(DEFAULTS)) {
    assert.ok(key in doc, `${key} missing from the example`);
    assert.ok(typeof doc[`_${key}`] === "string", `${key} has no _${key} comment`);
  }
});

Deno.test("order: defaults < file < CORESCOPE_INGESTOR_STATS < flags", () => {
  const file = JSON.stringify({ statsPath: "/file/s.json", port: 9000 });
  const cli = { command: "serve" as const, flags: {}, configPath: "c.json" };
  assert.equal(load(cli, file).statsPath, "/file/s.json");
  assert.equal(
    load(cli, file, { CORESCOPE_INGESTOR_STATS: "/env/s.json" }).statsPath,
    "/env/s.json",
  );
  const withFlag = parseCli(["--config", "c.json", "--stats=/flag/s.json"]);
  assert.equal(
    load(withFlag, file, { CORESCOPE_INGESTOR_STATS: "/env/s.json" }).statsPath,
    "/flag/s.json",
  );
  assert.equal(load(withFlag, file).port, 9000);
});

Deno.test("every CLI flag, both spellings", () => {
  const cli = parseCli([
    "--host",
    "::1",
    "--port=0",
    "--stats",
    "/a/s.json",
    "--db=/a/m.db",
    "--proc-io",
    "/run/io",
    "--log-format",
    "json",
  ]);
  const cfg = load(cli);
  assert.deepEqual(
    [cfg.host, cfg.port, cfg.statsPath, cfg.dbPath, cfg.procIoPath, cfg.logFormat],
    ["::1", 0, "/a/s.json", "/a/m.db", "/run/io", "json"],
  );
  assert.equal(parseCli(["--help"]).command, "help");
  assert.equal(parseCli(["--version"]).command, "version");
  assert.equal(parseCli(["permissions", "--port", "1"]).command, "permissions");
  assert.equal(
    parseCli(["--config", "/c.json", "wait-ready"]).command,
    "wait-ready",
    "after baked-in flags",
  );
});

Deno.test("bad flags and values name their key", () => {
  throwsKey(() => parseCli(["--bogus"]), "--bogus");
  throwsKey(() => parseCli(["--port"]), "--port");
  throwsKey(() => load(parseCli(["--port", "70000"])), "port");
  throwsKey(() => load(parseCli(["--port", "eighty"])), "port");
  throwsKey(() => load(parseCli(["--log-format", "xml"])), "logFormat");
  const cli = { command: "serve" as const, flags: {}, configPath: "c.json" };
  throwsKey(() => load(cli, '{"staleAfterMs": "soon"}'), "staleAfterMs");
  throwsKey(() => load(cli, '{"maxStatsBytes": 1.5}'), "maxStatsBytes");
  throwsKey(() => load(cli, '{"maxStatsBytes": 2097152}'), "maxStatsBytes"); // over 1 MiB
  throwsKey(() => load(cli, '{"hots": "x"}'), "hots");
  throwsKey(() => load(cli, '{"host": ""}'), "host");
  throwsKey(() => load(cli, "[1]"), "--config");
  throwsKey(() => load(cli, "{nope"), "--config");
  throwsKey(
    () =>
      loadConfig(cli, {
        readTextFile: () => {
          throw new Error("ENOENT");
        },
        env: () => undefined,
      }),
    "--config",
  );
});

Deno.test("relative paths are resolved against the working directory when loaded", () => {
  const cfg = load(parseCli(["--stats", "run/s.json", "--db", "./data/../m.db"]));
  assert.equal(cfg.statsPath, `${Deno.cwd()}/run/s.json`);
  assert.equal(cfg.dbPath, `${Deno.cwd()}/m.db`);
  assert.equal(load(parseCli(["--db", "/var//lib/./m.db"])).dbPath, "/var/lib/m.db");
});

Deno.test("the README's configuration table lists every key with its default", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const rows = new Map<string, string>();
  for (const [, key, def] of readme.matchAll(/^\| `(\w+)` +\| `([^`]*)` +\|/gm)) {
    rows.set(key!, def!);
  }
  for (const [key, value] of Object.entries(DEFAULTS)) {
    const shown = typeof value === "string"
      ? (value === "" ? '""' : value)
      : Array.isArray(value)
      ? JSON.stringify(value)
      : String(value);
    assert.equal(rows.get(key), shown, `README row for ${key}`);
  }
});

Deno.test("a comma in the --config path exits 2 naming the flag, for every command, no stack trace", async () => {
  for (const command of [[], ["permissions"], ["check"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        new URL("../main.ts", import.meta.url).pathname,
        ...command,
        "--config",
        "/x,y/c.json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${command}: ${err}`);
    assert.match(err, /^corescope-perf: --config: \/x,y\/c\.json: a path holding a comma/m);
    assert.doesNotMatch(err, /at .*\.ts:\d+/, "no stack trace");
  }
});
