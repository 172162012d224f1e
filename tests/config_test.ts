import assert from "node:assert/strict";
import {
  allowedHostsOf,
  type Cli,
  ConfigError,
  DEFAULTS,
  isLoopback,
  loadConfig,
  parseCli,
  USAGE,
  whereInJson,
} from "../src/app/config.ts";
import { MUTATING } from "./_helpers.ts";

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
  // An empty procIoPath is getrusage by choice (a container); an empty stats path is no path.
  assert.equal(load(parseCli(["--proc-io="])).procIoPath, "");
  assert.throws(() => load(parseCli(["--stats="])), /statsPath/);
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

Deno.test({
  name: "a comma in the --config path exits 2 naming the flag, for every command, no stack trace",
  ignore: MUTATING,
  async fn() {
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
  },
});

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** Runs `cmd` from the repository's root with Deno first on PATH; its code and stderr. */
async function runFromRoot(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}`, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a control character in any value refuses the value, naming its key, from flags, environment and file alike", () => {
  const cli = (flags: Cli["flags"], configPath?: string): Cli => ({
    command: "serve",
    flags,
    ...(configPath ? { configPath } : {}),
  });
  // Every kind: C0 (newline, carriage return, NUL, tab, ESC), DEL, C1 (NEL, CSI).
  for (const c of ["\n", "\r", "\0", "\t", "\u001b", "\u007f", "\u0085", "\u009b"]) {
    const v = `/tmp/s.json${c}--allow-run`;
    throwsKey(() => load(cli({ statsPath: v })), "statsPath");
    throwsKey(() => load(cli({ dbPath: v })), "dbPath");
    throwsKey(() => load(cli({ procIoPath: v })), "procIoPath");
    throwsKey(() => load(cli({ host: `127.0.0.1${c}--inspect` })), "host");
    throwsKey(() => load(cli({ port: `8080${c}` })), "port");
    throwsKey(() => load(cli({ logFormat: `text${c}` })), "logFormat");
    throwsKey(() => load(cli({}), "{}", { CORESCOPE_INGESTOR_STATS: v }), "statsPath");
    throwsKey(
      () => load(cli({}), "{}", { CORESCOPE_PERF_API_KEY: `0123456789abcdef${c}` }),
      "apiKey",
    );
    throwsKey(() => load(cli({}, "c.json"), JSON.stringify({ dbPath: v })), "dbPath");
    throwsKey(
      () => load(cli({}, "c.json"), JSON.stringify({ allowedHosts: [`perf.lan${c}x`] })),
      "allowedHosts",
    );
    throwsKey(() => load(cli({}, `/etc/c${c}.json`)), "--config");
  }
  // A comma splits a grant list: refused in every path and host, with the same key.
  throwsKey(() => load(cli({ host: "127.0.0.1,0.0.0.0" })), "host");
  throwsKey(
    () => load(cli({}, "c.json"), JSON.stringify({ allowedHosts: ["a,b"] })),
    "allowedHosts",
  );
  // Spaces and other printable characters are fine in a path.
  assert.equal(load(cli({ statsPath: "/tmp/a b/s (1).json" })).statsPath, "/tmp/a b/s (1).json");
});

Deno.test("a config file that is not JSON is named by line and column, never quoted (it may hold the key)", () => {
  const secret = "s3cret-api-key-0123456789";
  const file = `{\n  "apiKey": "${secret}"\n  "port": 8080\n}`;
  assert.throws(
    () => load({ command: "serve", flags: {}, configPath: "c.json" }, file),
    (e: unknown) =>
      e instanceof ConfigError && e.key === "--config" && !e.message.includes(secret) &&
      /at line 3, column 3/.test(e.message),
  );
  // An unknown key that is itself hostile is not echoed either.
  assert.throws(
    () => load({ command: "serve", flags: {}, configPath: "c.json" }, `{"a\\u001b[2J": 1}`),
    (e: unknown) => e instanceof ConfigError && e.key === "a key",
  );
});

Deno.test({
  name: "a newline-injected --allow-run exits 2 at every entry point, and nothing runs with it",
  ignore: MUTATING,
  async fn() {
    const inj = "/tmp/s.json\n--allow-run";
    const entries: [string, string[], Record<string, string>?][] = [
      [Deno.execPath(), ["run", "--allow-read", "--allow-env", MAIN, "--stats", inj]],
      [Deno.execPath(), [
        "run",
        "--allow-read",
        "--allow-env",
        MAIN,
        "permissions",
        "--stats",
        inj,
      ]],
      [Deno.execPath(), ["run", "--allow-read", "--allow-env", MAIN, "check", "--stats", inj]],
      [Deno.execPath(), ["run", "--allow-read", "--allow-env", MAIN, "permissions"], {
        CORESCOPE_INGESTOR_STATS: inj,
      }],
      ["bash", ["deploy/start.sh", "--stats", inj]],
      ["bash", ["deploy/start.sh", "check", "--host", "127.0.0.1\n--inspect"]],
      ["bash", ["deploy/start.sh"], { CORESCOPE_INGESTOR_STATS: inj }],
      ["bash", ["deploy/compile.sh", "--db", inj], { CORESCOPE_PERF_OUT: "/nonexistent/x" }],
    ];
    for (const [cmd, args, env] of entries) {
      const r = await runFromRoot(cmd, args, env);
      const what = `${cmd.split("/").at(-1)} ${args.join(" ")}`;
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /(statsPath|dbPath|host): holds a control character \(U\+000a\)/,
        what,
      );
      assert.doesNotMatch(r.stderr, /listening|compile\.sh: built/, what);
    }
  },
});

Deno.test({
  name: "a newline in the config file: install-deno.sh exits 2 naming the key, and writes no unit",
  ignore: MUTATING,
  async fn() {
    const dir = Deno.makeTempDirSync();
    try {
      Deno.mkdirSync(`${dir}/etc/corescope-perf`, { recursive: true });
      Deno.writeTextFileSync(
        `${dir}/etc/corescope-perf/config.json`,
        JSON.stringify({ dbPath: "/var/lib/m.db\n--allow-run" }),
      );
      const r = await runFromRoot("bash", ["deploy/install-deno.sh", "--root", dir], {
        DENO: Deno.execPath(),
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /dbPath: holds a control character \(U\+000a\)/);
      assert.throws(() => Deno.statSync(`${dir}/etc/systemd/system/corescope-perf.service`));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("the API key: empty disables reset; otherwise 16 characters at least", () => {
  const key = (v: string) =>
    load(parseCli(["--config", "c.json"]), JSON.stringify({ apiKey: v })).apiKey;
  assert.equal(key(""), "");
  assert.equal(key("0123456789abcdef"), "0123456789abcdef", "16: enough");
  throwsKey(() => key("0123456789abcde"), "apiKey");
  throwsKey(
    () => load(parseCli(["--config", "c.json"]), JSON.stringify({ apiKey: 12345678901234567 })),
    "apiKey",
  );
  // The environment's key overrides the file's, and is held to the same rule.
  assert.equal(
    load(parseCli(["--config", "c.json"]), JSON.stringify({ apiKey: "" }), {
      CORESCOPE_PERF_API_KEY: "fedcba9876543210",
    }).apiKey,
    "fedcba9876543210",
  );
  throwsKey(
    () => load(parseCli(["--config", "c.json"]), "{}", { CORESCOPE_PERF_API_KEY: "short" }),
    "apiKey",
  );
});

Deno.test("the Host names a request may name, from the bind address", () => {
  const cases: [string, string[], string[]][] = [
    ["127.0.0.1", [], ["localhost", "127.0.0.1", "[::1]"]],
    ["localhost", [], ["localhost", "127.0.0.1", "[::1]"]],
    ["::1", [], ["localhost", "127.0.0.1", "[::1]"]],
    ["127.0.0.2", [], ["localhost", "127.0.0.1", "[::1]", "127.0.0.2"]],
    ["0.0.0.0", [], []],
    ["::", [], []],
    ["[::]", [], []],
    ["192.0.2.7", [], ["192.0.2.7"]],
    ["2001:db8::7", [], ["[2001:db8::7]"]],
    ["0.0.0.0", ["perf.lan"], ["perf.lan"]],
  ];
  for (const [host, allowed, want] of cases) {
    assert.deepEqual(allowedHostsOf({ host, allowedHosts: allowed }), want, host);
  }
  for (const h of ["localhost", "LOCALHOST", "::1", "[::1]", "127.0.0.1", "127.255.0.9"]) {
    assert.equal(isLoopback(h), true, h);
  }
  for (const h of ["0.0.0.0", "::", "128.0.0.1", "192.0.2.7", "localhost.example"]) {
    assert.equal(isLoopback(h), false, h);
  }
});

/** The ConfigError `fn` throws, as `key: message`. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.name, "ConfigError");
    return e.message;
  }
  throw new Error("no error");
}

Deno.test("the command line, case by case: subcommands, switches, values, and each refusal's words", () => {
  const ok: [string[], Cli][] = [
    [["--help"], { command: "help", flags: {} }],
    [["-h"], { command: "help", flags: {} }],
    [["--version"], { command: "version", flags: {} }],
    [["-V"], { command: "version", flags: {} }],
    [[], { command: "serve", flags: {} }],
    [["check"], { command: "check", flags: {} }],
    [["--port", "0", "wait-ready"], { command: "wait-ready", flags: { port: "0" } }],
    [["permissions", "--print0"], { command: "permissions", print0: true, flags: {} }],
    [["--config", "c.json"], { command: "serve", configPath: "c.json", flags: {} }],
    [
      [
        "--host=h",
        "--port=1",
        "--stats",
        "-",
        "--db=-x",
        "--proc-io",
        "p-",
        "--log-format",
        "json",
      ],
      {
        command: "serve",
        flags: {
          host: "h",
          port: "1",
          statsPath: "-",
          dbPath: "-x",
          procIoPath: "p-",
          logFormat: "json",
        },
      },
    ],
  ];
  for (const [argv, want] of ok) assert.deepEqual(parseCli(argv), want, argv.join(" "));
  const bad: [string[], string][] = [
    [["bogus"], "bogus: unknown argument (see --help)"],
    [["check", "check"], "check: unknown argument (see --help)"],
    [["-"], "-: unknown argument (see --help)"],
    [["--", "--port"], "--port: unknown argument (see --help)"],
    [["--print0"], "--print0: only with permissions"],
    [["check", "--print0"], "--print0: only with permissions"],
    [["--port"], "--port: needs a value"],
    [["--port", "--db"], "--port: needs a value"],
    [["--stats", "-x"], "--stats: needs a value"],
    [["--help=1"], "--help: takes no value"],
    [["--print0=yes"], "--print0: takes no value"],
    [["--nope"], "--nope: unknown argument (see --help)"],
    [["--nope=1"], "--nope: unknown argument (see --help)"],
    [["--nope", "x"], "--nope: unknown argument (see --help)"],
    [["-x"], "-x: unknown argument (see --help)"],
    [["-p", "1"], "-p: unknown argument (see --help)"],
  ];
  for (const [argv, message] of bad) {
    assert.equal(errorOf(() => parseCli(argv)), message, argv.join(" "));
  }
});

Deno.test("every bounded setting: its least and greatest value taken, one past either refused in words", () => {
  const bounds: [string, number, number][] = [
    ["port", 0, 65535],
    ["staleAfterMs", 1, 86_400_000],
    ["maxStatsBytes", 1024, 1048576],
    ["clockSkewMs", 0, 3_600_000],
    ["ioSampleMs", 100, 60_000],
    ["receiptStaleAfterSec", 1, 2_592_000],
    ["writeStaleAfterSec", 1, 2_592_000],
    ["writeWindowSec", 10, 3600],
    ["walResetStaleAfterSec", 10, 86_400],
    ["writerLockMs", 1, 60_000],
    ["writerContentionCount", 1, 1_000_000],
    ["diskLowHours", 1, 8760],
    ["diskLowMiB", 0, 1_048_576],
    ["diskWindowSec", 60, 604_800],
    ["slowRequestMs", 1, 60_000],
  ];
  const file = (doc: Record<string, unknown>) => () =>
    load(parseCli(["--config", "c.json"]), JSON.stringify(doc));
  for (const [key, min, max] of bounds) {
    for (const v of [min, max]) {
      assert.equal((file({ [key]: v })() as unknown as Record<string, unknown>)[key], v);
    }
    for (const v of [min - 1, max + 1, min + 0.5, `${min}.0`, true, null]) {
      assert.equal(
        errorOf(file({ [key]: v })),
        `${key}: must be an integer from ${min} to ${max}`,
        `${key} = ${JSON.stringify(v)}`,
      );
    }
  }
  // From a flag, digits (of any length) are a number.
  assert.equal(load(parseCli(["--port", "10"])).port, 10);
  assert.equal(
    errorOf(() => load(parseCli(["--port", "1e3"]))),
    "port: must be an integer from 0 to 65535",
  );
});

Deno.test("strings, hosts, choices, the API key: each refusal in words", () => {
  const file = (doc: Record<string, unknown>) => () =>
    load(parseCli(["--config", "c.json"]), JSON.stringify(doc));
  const cases: [Record<string, unknown>, string][] = [
    [{ host: "" }, "host: must be a non-empty string"],
    [{ host: 5 }, "host: must be a non-empty string"],
    [{ host: "a,b" }, "host: a,b: a host holding a comma cannot be granted"],
    [{ statsPath: "/a,b" }, "statsPath: /a,b: a path holding a comma cannot be granted"],
    [{ statsPath: "/a\nb" }, "statsPath: holds a control character (U+000a), which no setting may"],
    [{ dbPath: "/a\u0085b" }, "dbPath: holds a control character (U+0085), which no setting may"],
    [{ logFormat: "xml" }, "logFormat: must be one of text, json"],
    [{ logFormat: 1 }, "logFormat: must be one of text, json"],
    [{ allowedHosts: "perf.lan" }, "allowedHosts: must be an array of host names"],
    [{ allowedHosts: ["perf.lan", ""] }, "allowedHosts: must be an array of host names"],
    [{ allowedHosts: [5] }, "allowedHosts: must be an array of host names"],
    [{ allowedHosts: ["a,b"] }, "allowedHosts: a,b: a host holding a comma cannot be granted"],
    [{ apiKey: 5 }, "apiKey: must be a string"],
    [{ apiKey: "x".repeat(15) }, "apiKey: must be empty or at least 16 characters"],
    [
      { apiKey: `${"x".repeat(16)}\t` },
      "apiKey: holds a control character (U+0009), which no setting may",
    ],
  ];
  for (const [doc, message] of cases) {
    assert.equal(errorOf(file(doc)), message, JSON.stringify(doc));
  }
  const c = file({
    allowedHosts: ["PERF.Lan"],
    apiKey: "x".repeat(16),
    statsPath: "/a/../b/s.json",
    logFormat: "json",
  })();
  assert.deepEqual(c.allowedHosts, ["perf.lan"]);
  assert.equal(c.apiKey, "x".repeat(16));
  assert.equal(c.statsPath, "/b/s.json");
  assert.equal(c.logFormat, "json");
  assert.equal(file({ apiKey: "" })().apiKey, "");
});

Deno.test("the config file: unreadable, not JSON, not an object, comments, unknown keys, then environment and flags", () => {
  const cli = parseCli(["--config", "c.json"]);
  const unreadable = {
    readTextFile: () => {
      throw new Error("denied");
    },
    env: () => undefined,
  };
  assert.equal(errorOf(() => loadConfig(cli, unreadable)), "--config: cannot read c.json: denied");
  assert.equal(
    errorOf(() => load(cli, "")),
    "--config: c.json is not JSON (it ends too soon or holds no JSON)",
  );
  for (const doc of ["[]", "null", "5", '"x"']) {
    assert.equal(errorOf(() => load(cli, doc)), "--config: c.json must hold a JSON object", doc);
  }
  assert.equal(load(cli, '{"_note": "anything", "port": 9}').port, 9);
  assert.equal(errorOf(() => load(cli, '{"colour": 1}')), "colour: unknown config key");
  const k64 = "k".repeat(64), k65 = "k".repeat(65);
  assert.equal(
    errorOf(() => load(cli, JSON.stringify({ [k64]: 1 }))),
    `${k64}: unknown config key`,
  );
  assert.equal(errorOf(() => load(cli, JSON.stringify({ [k65]: 1 }))), "a key: unknown config key");
  assert.equal(errorOf(() => load(cli, '{"a\\u001bb": 1}')), "a key: unknown config key");
  // The environment over the file, the flags over both; an empty variable is no value.
  const env = { CORESCOPE_INGESTOR_STATS: "/env/s.json", CORESCOPE_PERF_API_KEY: "k".repeat(16) };
  const fromEnv = load(cli, '{"statsPath": "/file/s.json", "apiKey": ""}', env);
  assert.deepEqual([fromEnv.statsPath, fromEnv.apiKey], ["/env/s.json", "k".repeat(16)]);
  const flagged = load(parseCli(["--config", "c.json", "--stats", "/flag/s.json"]), "{}", env);
  assert.equal(flagged.statsPath, "/flag/s.json");
  const empty = load(cli, '{"statsPath": "/file/s.json"}', { CORESCOPE_INGESTOR_STATS: "" });
  assert.equal(empty.statsPath, "/file/s.json");
});

Deno.test("whereInJson: line and column, a byte, or neither; never the text", () => {
  assert.equal(
    whereInJson(new Error("Unexpected x in JSON at line 12 column 34")),
    "(at line 12, column 34)",
  );
  assert.equal(whereInJson(new Error("Unexpected x in JSON at position 123")), "(at byte 123)");
  assert.equal(
    whereInJson(new Error("Unexpected end of JSON input")),
    "(it ends too soon or holds no JSON)",
  );
  assert.equal(whereInJson("not an error"), "(it ends too soon or holds no JSON)");
});

Deno.test("loopback: brackets only around the whole address; a bracketed bind address is itself", () => {
  assert.equal(isLoopback("[::1]"), true);
  assert.equal(isLoopback("::[1"), false);
  assert.equal(isLoopback("::1]x"), false);
  assert.deepEqual(allowedHostsOf({ host: "[::1]", allowedHosts: [] }), [
    "localhost",
    "127.0.0.1",
    "[::1]",
  ]);
  assert.deepEqual(allowedHostsOf({ host: "[2001:db8::7]", allowedHosts: [] }), ["[2001:db8::7]"]);
});

Deno.test("after `--` every argument is positional, wherever the `--` stands", () => {
  assert.equal(parseCli(["--port", "1", "--", "check"]).command, "check");
  assert.equal(
    errorOf(() => parseCli(["--port", "1", "--", "--port"])),
    "--port: unknown argument (see --help)",
  );
});

Deno.test("--help's text names every flag the parser takes", () => {
  const flags = [...USAGE.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
  for (const flag of ["--config", "--stats", "--db", "--port", "--host", "--help", "--version"]) {
    assert.ok(flags.includes(flag), flag);
    if (!["--help", "--version"].includes(flag)) {
      assert.doesNotThrow(() => parseCli([flag, flag === "--port" ? "1" : "/x"]), flag);
    }
  }
});

Deno.test("paths: an absolute one is normalized; a relative one needs a working directory", () => {
  assert.equal(load(parseCli(["--stats", "/a/./b//c/../d"])).statsPath, "/a/b/d");
  const home = Deno.cwd(), gone = Deno.makeTempDirSync();
  Deno.chdir(gone);
  try {
    Deno.removeSync(gone);
    assert.equal(
      errorOf(() => load(parseCli(["--stats", "s.json"]))),
      "statsPath: must be an absolute path",
    );
  } finally {
    Deno.chdir(home);
  }
});

Deno.test("integers: only a number or a string of digits; an array holding one is neither", () => {
  assert.equal(
    errorOf(() => load(parseCli(["--config", "c.json"]), JSON.stringify({ port: ["10"] }))),
    "port: must be an integer from 0 to 65535",
  );
});

Deno.test("loopback: a bracket inside a name is not stripped", () => {
  assert.equal(isLoopback("local]host"), false);
  assert.equal(isLoopback("[localhost"), true, "the opening bracket of an address, as [::1] has");
});
