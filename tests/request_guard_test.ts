import assert from "node:assert/strict";
import {
  authorityOf,
  createRequestGuard,
  HOST_MEMO_SIZE,
  hostName,
  MAX_BODY_BYTES,
  pathOf,
} from "../src/http/request_guard.ts";

/**
 * A request as Deno.serve hands it over: its URL built from the authority it is addressed to
 * (which Deno does not validate: `http://a b/x` is a URL Deno builds, and `new Request` would
 * refuse), its method, and its headers.
 */
const req = (authority: string, length?: string, method = "GET") =>
  ({
    url: `http://${authority}/api/healthz`,
    method,
    headers: new Headers(length === undefined ? {} : { "content-length": length }),
  }) as Request;

Deno.test("hostName: strictly host[:port]", () => {
  for (const ok of ["localhost", "LOCALHOST:8080", "127.0.0.1:1", "[::1]", "[2001:db8::1]:443"]) {
    assert.ok(hostName(ok) !== undefined, ok);
  }
  for (
    const bad of [
      "",
      ":80",
      "localhost:",
      "localhost:123456",
      "localhost:99999",
      "a b",
      "[::1",
      "[::1]x",
      "localhost:80@evil",
      "user@localhost",
      "localhost:1, evil",
      "localhost\t",
    ]
  ) {
    assert.equal(hostName(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("the guard's memory of Host verdicts is bounded and never changes a verdict", () => {
  const guard = createRequestGuard(["localhost"]);
  for (let i = 0; i < 1000; i++) {
    assert.equal(guard(req(`evil${i}.example`))?.status, 421);
    assert.equal(guard(req(`bad host ${i}`))?.status, 400);
    assert.equal(guard(req(`localhost:${1024 + i}`)), undefined);
  }
});

Deno.test("the authority a request is addressed to decides: 421 for a name not allowed, 400 for one not strictly host[:port]", () => {
  const guard = createRequestGuard(["localhost", "127.0.0.1", "[::1]"]);
  for (const ok of ["localhost", "LOCALHOST:8080", "127.0.0.1:1", "[::1]:8080"]) {
    assert.equal(guard(req(ok)), undefined, ok);
  }
  for (const name of ["evil.example", "evil.example:8080", "127.0.0.2", "[::2]"]) {
    assert.equal(guard(req(name))?.status, 421, name);
  }
  for (const bad of ["[::1]evil.example", "localhost:80@evil", "localhost:1, evil", "a b", ":80"]) {
    assert.equal(guard(req(bad))?.status, 400, bad);
  }
  // No allowed list: any well-formed name passes, none malformed.
  const any = createRequestGuard([]);
  assert.equal(any(req("perf.lan:8080")), undefined);
  assert.equal(any(req("perf.lan:80@evil"))?.status, 400);
});

Deno.test("a declared body over the bound is refused, within it passes", () => {
  const guard = createRequestGuard([]);
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    assert.equal(guard(req("localhost", String(MAX_BODY_BYTES), method)), undefined);
    assert.equal(guard(req("localhost", String(MAX_BODY_BYTES + 1), method))?.status, 413);
    assert.equal(guard(req("localhost", String(2 * MAX_BODY_BYTES), method))?.status, 413);
    assert.equal(guard(req("localhost", "1, 1", method)), undefined, "equal values are one");
    assert.equal(guard(req("localhost", "1, 2", method))?.status, 413);
    assert.equal(guard(req("localhost", "x", method))?.status, 413, "not a length");
  }
  // GET, HEAD and OPTIONS bodies are never read: what they declare is not looked at.
  for (const method of ["GET", "HEAD", "OPTIONS"]) {
    assert.equal(guard(req("localhost", "9e9", method)), undefined, method);
  }
});

Deno.test("the memory of verdicts holds at most 64 authorities, emptied when full", () => {
  const memo = new Map();
  const guard = createRequestGuard(["localhost"], memo);
  for (let n = 1; n <= 200; n++) {
    guard(req(`h${n}.example`));
    assert.equal(memo.size, ((n - 1) % HOST_MEMO_SIZE) + 1, `after ${n}`);
  }
  // One authority asked again and again is judged once.
  guard(req("again.example"));
  const size = memo.size;
  for (let i = 0; i < 5; i++) guard(req("h1.example")), guard(req("again.example"));
  assert.equal(memo.size, size + 1);
});

Deno.test("each refusal exactly; a body is judged only where one belongs", () => {
  const guard = createRequestGuard(["localhost"]);
  assert.deepEqual(guard(req("a b")), { status: 400, error: "malformed Host: not host[:port]" });
  assert.deepEqual(guard(req("evil.example")), {
    status: 421,
    error: "unknown Host: name this service by an allowed host",
  });
  const over = String(MAX_BODY_BYTES + 1);
  assert.deepEqual(guard(req("localhost", over, "POST")), {
    status: 413,
    error: `request body over ${MAX_BODY_BYTES} bytes`,
  });
  for (const method of ["GET", "HEAD", "OPTIONS"]) {
    assert.equal(guard(req("localhost", over, method)), undefined, method);
  }
  assert.equal(guard(req("localhost", String(MAX_BODY_BYTES), "POST")), undefined, "at the bound");
  assert.equal(guard(req("localhost", undefined, "POST")), undefined, "no length declared");
});

Deno.test("a declared length is decimal digits, once or repeated the same", () => {
  const guard = createRequestGuard([]);
  const post = (length: string) => guard(req("localhost", length, "POST"))?.status;
  for (const ok of ["0", "100", "100, 100", "100,100"]) assert.equal(post(ok), undefined, ok);
  for (
    const bad of ["-1", "-1, -1", "0x10", "0x10, 0x10", "1.5, 1.5", "1e3", "100, 101", "", "a"]
  ) {
    assert.equal(post(bad), 413, JSON.stringify(bad));
  }
});

Deno.test("hostName: the port is at most 65535", () => {
  assert.equal(hostName("h:65535"), "h");
  assert.equal(hostName("h:65536"), undefined);
});

Deno.test("authorityOf and pathOf: no path, a query, a fragment", () => {
  assert.equal(authorityOf("http://h:1"), "h:1");
  assert.equal(authorityOf("http://h:1/x"), "h:1");
  for (
    const [url, path] of [
      ["http://h/a", "/a"],
      ["http://h/a?q=1", "/a"],
      ["http://h/a#f", "/a"],
      ["http://h/a?q#f", "/a"],
      ["http://h/a#f?q", "/a"],
      ["http://h", "/"],
    ] as const
  ) assert.equal(pathOf(url), path, url);
});
