/**
 * Memoizing a pure function on its last arguments: the service's one cache for derived
 * values (response bodies, the /metrics text). Its inputs are objects that are replaced,
 * never edited (a stats version's state, an I/O sample, a database reading), or small
 * values (an age in tenths of a second), so "same arguments" is identity: no string key to
 * forget an input in.
 *
 * @module
 */

/**
 * Wraps `build` so that a call with the same arguments as the previous call (by
 * `Object.is`, or `sameFirst` for the first argument) returns the previous result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoLast } from "./memo.ts";
 * let builds = 0;
 * const body = memoLast((state: object, tenths: number) => `${++builds}:${tenths}`);
 * const v1 = {};
 * assert.equal(body(v1, 3), "1:3");
 * assert.equal(body(v1, 3), "1:3"); // same inputs: not built again
 * assert.equal(body(v1, 4), "2:4");
 * assert.equal(body({}, 4), "3:4"); // a new version
 * ```
 */
export function memoLast<A extends unknown[], R>(
  build: (...args: A) => R,
  sameFirst: (a: A[0], b: A[0]) => boolean = Object.is,
): (...args: A) => R {
  let last: { args: A; value: R } | undefined;
  return (...args: A): R => {
    if (last && sameArgs(last.args, args, sameFirst)) return last.value;
    const value = build(...args);
    last = { args, value };
    return value;
  };
}

function sameArgs<A extends unknown[]>(
  a: A,
  b: A,
  sameFirst: (x: A[0], y: A[0]) => boolean,
): boolean {
  if (a.length !== b.length || !sameFirst(a[0], b[0])) return false;
  for (let i = 1; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
