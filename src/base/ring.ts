/**
 * A fixed-capacity ring buffer: the one bounded "last N" store of the service (history
 * samples, per-route latencies, slow requests, event-loop lags). Memory is fixed by the
 * capacity; the oldest item falls out.
 *
 * @module
 */

/** A fixed-capacity ring; oldest entries fall out. */
export interface Ring<T> {
  push(item: T): void;
  /** Oldest first. */
  toArray(): T[];
  /** The newest `n`, oldest first. */
  last(n: number): T[];
  clear(): void;
  readonly size: number;
}

/**
 * Creates a ring of at most `capacity` items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRing } from "./ring.ts";
 * const r = createRing<number>(2);
 * r.push(1);
 * r.push(2);
 * r.push(3);
 * assert.deepEqual(r.toArray(), [2, 3]);
 * assert.deepEqual(r.last(1), [3]);
 * ```
 */
export function createRing<T>(capacity: number): Ring<T> {
  let items: T[] = [];
  let start = 0;
  const toArray = () => [...items.slice(start), ...items.slice(0, start)];
  return {
    push(item) {
      if (items.length < capacity) items.push(item);
      else {
        items[start] = item;
        start = (start + 1) % capacity;
      }
    },
    toArray,
    last: (n) => (n <= 0 ? [] : toArray().slice(-n)),
    clear() {
      items = [];
      start = 0;
    },
    get size() {
      return items.length;
    },
  };
}
