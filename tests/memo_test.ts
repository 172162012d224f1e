import assert from "node:assert/strict";
import { memoLast } from "../src/base/memo.ts";

Deno.test("memoLast: the same inputs return the same result without building again", () => {
  let builds = 0;
  const f = memoLast((_a: object, n: number) => ({ n, build: ++builds }));
  const v = {};
  const first = f(v, 1);
  assert.equal(f(v, 1), first);
  assert.equal(builds, 1);
});

Deno.test("memoLast: any changed input builds again (identity for objects, value for the rest)", () => {
  let builds = 0;
  const f = memoLast((_a: object, _n: number, _b: boolean) => ++builds);
  const v = {};
  f(v, 1, true);
  f({}, 1, true); // an equal but new object is a new version
  f({}, 2, true);
  f(v, 1, false);
  assert.equal(builds, 4);
});

Deno.test("memoLast: a custom comparison for the first input", () => {
  let builds = 0;
  const f = memoLast((_j: { state: object; n: number }) => ++builds, (a, b) => a.state === b.state);
  const state = {};
  f({ state, n: 1 });
  f({ state, n: 2 });
  assert.equal(builds, 1, "judged by state only");
  f({ state: {}, n: 2 });
  assert.equal(builds, 2);
});
