import assert from "node:assert/strict";
import { createMemo } from "../src/memo.ts";

function setup() {
  const clock = { t: 1000, key: "v1", loads: 0 };
  const memo = createMemo({
    ttlMs: 1000,
    now: () => clock.t,
    probe: () => clock.key,
    load: () => ++clock.loads,
  });
  return { clock, memo };
}

Deno.test("memo: reused within the TTL while the probe key is unchanged", () => {
  const { clock, memo } = setup();
  assert.equal(memo.get(), 1);
  clock.t += 999;
  assert.equal(memo.get(), 1);
  assert.equal(memo.loads(), 1);
});

Deno.test("memo: recomputed once the TTL has passed", () => {
  const { clock, memo } = setup();
  memo.get();
  clock.t += 1000;
  assert.equal(memo.get(), 2);
});

Deno.test("memo: recomputed at once when the probe key changes (file mtime/identity)", () => {
  const { clock, memo } = setup();
  memo.get();
  clock.key = "v2";
  assert.equal(memo.get(), 2);
  assert.equal(memo.get(), 2);
});

Deno.test("memo: a negative result ('none') is cached like any other", () => {
  const clock = { t: 0, loads: 0 };
  const memo = createMemo<undefined>({
    ttlMs: 1000,
    now: () => clock.t,
    probe: () => "fail:missing",
    load: () => void clock.loads++,
  });
  for (let i = 0; i < 50; i++) assert.equal(memo.get(), undefined);
  assert.equal(clock.loads, 1);
});

Deno.test("memo: a clock that steps backwards does not pin a stale value", () => {
  const { clock, memo } = setup();
  memo.get();
  clock.t -= 5000;
  assert.equal(memo.get(), 2);
});
