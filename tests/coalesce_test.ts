import assert from "node:assert/strict";
import { coalesce } from "../src/base/coalesce.ts";
import { COALESCE_MS } from "../src/app/runtime.ts";

function setup(windowMs = 5) {
  const st = { reads: 0, t: 0 };
  const get = coalesce(() => ++st.reads, { windowMs, burstCalls: 4, burstMs: 1, mono: () => st.t });
  return { st, get };
}

Deno.test("a sustained burst shares one reading per window", () => {
  const { st, get } = setup();
  for (let i = 0; i < 100; i++) get();
  assert.equal(st.reads, 4, "only the calls before the burst is recognised read");
  // Still a burst (a call every 0.1 ms): one more reading once the 5 ms window has passed.
  for (let i = 0; i < 60; i++) {
    st.t += 0.1;
    get();
  }
  assert.equal(st.reads, 5);
});

Deno.test("calls spaced out never share a reading", () => {
  const { st, get } = setup();
  for (let i = 0; i < 20; i++) {
    st.t += 0.5; // 4 calls take 1.5 ms > burstMs
    get();
  }
  assert.equal(st.reads, 20);
});

Deno.test("windowMs 0 never reuses; a clock going backwards reads again", () => {
  const zero = setup(0);
  for (let i = 0; i < 10; i++) zero.get();
  assert.equal(zero.st.reads, 10);
  const { st, get } = setup();
  for (let i = 0; i < 10; i++) get();
  st.t = -1;
  const before = st.reads;
  get();
  assert.equal(st.reads, before + 1);
});

Deno.test("the defaults the README states: a burst is 16 calls within 2 ms, shared for 5 ms", () => {
  const st = { reads: 0, t: 0 };
  const get = coalesce(() => ++st.reads, { windowMs: COALESCE_MS, mono: () => st.t });
  for (let i = 0; i < 100; i++) {
    st.t += 0.2; // 16 calls span 3 ms: not a burst, every call reads
    get();
  }
  assert.equal(st.reads, 100);
  for (let i = 0; i < 100; i++) {
    st.t += 0.1; // 16 calls span 1.5 ms: a burst, one reading per 5 ms
    get();
  }
  assert.ok(st.reads - 100 <= 16 + 2, `${st.reads - 100} readings in 10 ms of burst`);
});
