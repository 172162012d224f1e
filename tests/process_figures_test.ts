import assert from "node:assert/strict";
import { procSelfDir } from "../src/inputs/proc_io.ts";
import { readProcessFigures } from "../src/inputs/process_figures.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("descriptor figures come from the bound /proc/self directory, and are absent without one", () => {
  using dir = tempDir();
  // A stand-in for the bound directory: three descriptors, and the limits file's format.
  Deno.mkdirSync(dir.path("self/fd"), { recursive: true });
  for (const n of ["0", "1", "2"]) Deno.writeTextFileSync(dir.path(`self/fd/${n}`), "");
  Deno.writeTextFileSync(
    dir.path("self/limits"),
    "Limit                     Soft Limit           Hard Limit           Units     \n" +
      "Max open files            1024                 4096                 files     \n",
  );
  const start = Date.parse("2026-12-03T12:00:00Z");
  const bound = readProcessFigures(start, procSelfDir(dir.path("self/io")));
  assert.equal(bound.openFds, 3);
  assert.equal(bound.maxFds, 1024, "the soft limit");
  assert.equal(bound.startTimeSeconds, start / 1000);
  assert.ok(bound.cpuSeconds > 0 && bound.residentBytes > 1 << 20);
  const none = readProcessFigures(start, procSelfDir("/proc/self/io"));
  assert.deepEqual([none.openFds, none.maxFds], [undefined, undefined], "never made up");
  const gone = readProcessFigures(start, procSelfDir(dir.path("nowhere/io")));
  assert.deepEqual([gone.openFds, gone.maxFds], [undefined, undefined]);
});
