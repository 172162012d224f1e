/**
 * Records keyed by names from outside (sources, components, kinds in the stats file):
 * `obj[name]` for `constructor` or `toString` finds `Object.prototype`'s functions, so a
 * lookup by such a name reads own entries only. (Writing is safe as it is: Deno has no
 * `__proto__` accessor, so `obj["__proto__"] = v` is an entry like any other.)
 *
 * @module
 */

/**
 * The own entry `key` of `obj`, or `undefined`: never an inherited member.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getOwn } from "./records.ts";
 * assert.equal(getOwn({}, "constructor"), undefined);
 * assert.equal(getOwn({ constructor: 1 }, "constructor"), 1);
 * ```
 */
export function getOwn<T>(obj: Record<string, T> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
