import assert from "node:assert/strict";
import { createResponseBudget, sharedBody, STREAM_MIN_CHARS } from "../src/http/response_budget.ts";

const big = (c: string, n = 100_000) => sharedBody(c.repeat(n));

Deno.test("twice the budget in distinct unread bodies: the second half is refused", async () => {
  const budget = createResponseBudget({ maxPinnedBytes: 400_000 });
  const bodies = ["a", "b", "c", "d", "e", "f", "g", "h"].map((c) => big(c)); // 800 KB
  const held = bodies.map((b) => budget.bodyOf(b, "GET"));
  assert.deepEqual(held.map((h) => h !== undefined), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
  assert.equal(budget.pinnedBytes(), 400_000);
  // One body shared by any number of responses counts once.
  for (let i = 0; i < 1000; i++) assert.ok(budget.bodyOf(bodies[0]!, "GET") !== undefined);
  assert.equal(budget.pinnedBytes(), 400_000);
  // A client that goes away (cancel) releases its share; the last one frees the bytes.
  await (held[1] as ReadableStream).cancel();
  assert.equal(budget.pinnedBytes(), 300_000);
  assert.ok(budget.bodyOf(bodies[5]!, "GET") !== undefined, "room again");
});

Deno.test("small bodies and HEAD are not counted", () => {
  const budget = createResponseBudget({ maxPinnedBytes: 1 });
  assert.equal(budget.bodyOf(sharedBody("{}"), "GET"), "{}");
  assert.equal(budget.bodyOf(big("x", STREAM_MIN_CHARS), "HEAD"), null);
  assert.equal(budget.pinnedBytes(), 0);
});

Deno.test("a streamed body arrives whole, in order, and leaves the shared bytes intact", async () => {
  const budget = createResponseBudget();
  const text = Array.from({ length: 20_000 }, (_, i) => `${i},`).join("");
  const body = sharedBody(text);
  for (let i = 0; i < 3; i++) {
    assert.equal(await new Response(budget.bodyOf(body, "GET")).text(), text);
  }
  assert.equal(budget.pinnedBytes(), 0);
});
