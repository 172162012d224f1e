import assert from "node:assert/strict";
import { createRequestGuard, hostName, MAX_BODY_BYTES } from "../src/http/request_guard.ts";

const req = (host: string | undefined, url = `http://${host}/api/healthz`, length?: string) => {
  const headers = new Headers();
  if (host !== undefined) headers.set("host", host);
  if (length !== undefined) headers.set("content-length", length);
  return new Request(url, { headers });
};

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
    assert.equal(guard(req(`bad host ${i}`, "http://localhost/"))?.status, 400);
    assert.equal(guard(req(`localhost:${1024 + i}`)), undefined);
  }
});

Deno.test("a declared body over the bound is refused, within it passes", () => {
  const guard = createRequestGuard([]);
  const url = "http://localhost/api/perf/reset";
  assert.equal(guard(req("localhost", url, String(MAX_BODY_BYTES))), undefined);
  assert.equal(guard(req("localhost", url, String(2 * MAX_BODY_BYTES)))?.status, 413);
  assert.equal(guard(req("localhost", url, "1, 1")), undefined, "repeated equal values are one");
  assert.equal(guard(req("localhost", url, "1, 2"))?.status, 413);
});

Deno.test("with no allowed list any well-formed Host passes, but it must still be the target's", () => {
  const guard = createRequestGuard([]);
  assert.equal(guard(req("perf.lan:8080")), undefined);
  assert.equal(guard(req(undefined, "http://localhost:8080/"))?.status, 400);
  assert.equal(guard(req("perf.lan", "http://evil.example/"))?.status, 400);
});
