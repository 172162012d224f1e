import assert from "node:assert/strict";
import { isUnderProc, parseProcIo, procSelfDir } from "../src/inputs/proc_io.ts";

const SAMPLE = `rchar: 323934931
wchar: 323929600
syscr: 632687
syscw: 632675
read_bytes: 4096
write_bytes: 323932160
cancelled_write_bytes: 12
`;

Deno.test("parseProcIo reads the five counters and ignores the others", () => {
  const { ok, counters } = parseProcIo(SAMPLE);
  assert.equal(ok, true);
  assert.deepEqual(counters, {
    syscr: 632687n,
    syscw: 632675n,
    read_bytes: 4096n,
    write_bytes: 323932160n,
    cancelled_write_bytes: 12n,
  });
});

Deno.test("parseProcIo keeps full 64-bit precision", () => {
  const { counters } = parseProcIo("write_bytes: 18446744073709551615\n");
  assert.equal(counters.write_bytes, 18446744073709551615n);
});

Deno.test("parseProcIo skips malformed lines and values that do not fit", () => {
  const text = [
    "read_bytes 12", // no colon
    "write_bytes: -5",
    "syscr: 1e9",
    "syscw: 18446744073709551616", // 2^64
    "cancelled_write_bytes: 12abc",
    ": 7",
  ].join("\n");
  assert.deepEqual(parseProcIo(text), { ok: false, counters: {} });
});

Deno.test("parseProcIo reports not-a-sample for empty or unrelated text", () => {
  assert.equal(parseProcIo("").ok, false);
  assert.equal(parseProcIo("rchar: 1\nwchar: 2\n").ok, false);
  assert.equal(parseProcIo("\0\xff garbage").ok, false);
});

Deno.test("parseProcIo: one recognised key makes a (partial) sample", () => {
  const { ok, counters } = parseProcIo("syscw:   42  \r\n");
  assert.equal(ok, true);
  assert.deepEqual(counters, { syscw: 42n });
});

// A test-only package, kept out of deno.json so `deno compile` never embeds it.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@4.10.2";

Deno.test("property: any text gives a well-typed parse, never a throw", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
      const r = parseProcIo(text);
      assert.equal(typeof r.ok, "boolean");
      assert.equal(r.ok, Object.keys(r.counters).length > 0);
      for (const v of Object.values(r.counters)) {
        assert.equal(typeof v, "bigint");
        assert.ok(v >= 0n && v < 1n << 64n);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: well-formed lines round-trip, whatever surrounds them", () => {
  const key = fc.constantFrom(
    "read_bytes",
    "write_bytes",
    "cancelled_write_bytes",
    "syscr",
    "syscw",
  );
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  fc.assert(
    fc.property(
      key,
      u64,
      fc.array(fc.string({ maxLength: 30 }).filter((s) => !s.includes(":"))),
      (k, v, noise) => {
        const r = parseProcIo([...noise, `${k}: ${v}`].join("\n"));
        assert.equal(r.counters[k], v);
      },
    ),
  );
});

Deno.test("parseProcIo: a padded key still counts", () => {
  assert.deepEqual(parseProcIo(" read_bytes : 5\n").counters, { read_bytes: 5n });
});

Deno.test("isUnderProc and procSelfDir: /proc itself, an empty path, a file that is not io", () => {
  assert.equal(isUnderProc("/proc"), true);
  assert.equal(isUnderProc(""), false);
  assert.equal(isUnderProc("/procfs/self/io"), false);
  assert.equal(procSelfDir("/run/x/stat"), undefined);
  assert.equal(procSelfDir("/run/x/io"), "/run/x");
});
