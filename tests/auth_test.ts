import assert from "node:assert/strict";
import { checkApiKey, keysMatch } from "../src/http/auth.ts";

const KEY = "0123456789abcdef-key";

Deno.test("keysMatch compares whole secrets of any length", () => {
  assert.equal(keysMatch(KEY, KEY), true);
  assert.equal(keysMatch(KEY, KEY + "x"), false);
  assert.equal(keysMatch("", KEY), false);
});

Deno.test("checkApiKey: disabled, missing, wrong, ok; Bearer or X-API-Key", () => {
  assert.equal(checkApiKey(new Headers({ "x-api-key": KEY }), ""), "disabled");
  assert.equal(checkApiKey(new Headers(), KEY), "missing");
  assert.equal(checkApiKey(new Headers({ authorization: "Bearer " }), KEY), "missing");
  assert.equal(checkApiKey(new Headers({ authorization: "Bearer nope" }), KEY), "wrong");
  assert.equal(checkApiKey(new Headers({ authorization: `Bearer ${KEY}` }), KEY), "ok");
  assert.equal(checkApiKey(new Headers({ "x-api-key": KEY }), KEY), "ok");
});
