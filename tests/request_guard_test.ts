import assert from "node:assert/strict";
import { createRequestGuard, hostName, MAX_BODY_BYTES } from "../src/http/request_guard.ts";

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
