/**
 * A writer that replaces a stats file as fast as it can, the way the ingestor does (a new
 * file renamed into place), with versions of `bytes` bytes of the costliest shape to parse (a
 * map of short names), until its standard input closes. Prints "writing" once started and,
 * when it ends, how many versions it wrote.
 * Usage: deno run --allow-read --allow-write tests/_hostile_writer.ts PATH BYTES
 */
import { writeAtomic } from "../tools/simulator.ts";

const [path, size] = [Deno.args[0]!, Number(Deno.args[1])];
function version(k: number): string {
  const doc = (n: number) => {
    const names: Record<string, number> = {};
    for (let j = 0; j < n; j++) names[j.toString(36)] = k;
    return JSON.stringify({ sampledAt: new Date().toISOString(), backfillUpdates: names });
  };
  let n = 1000;
  while (doc(n + 1000).length <= size) n += 1000;
  return doc(n).padEnd(size, " ");
}
const versions = [version(0), version(1)];
let stop = false, n = 0;
(async () => {
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
  stop = true;
})();
console.log("writing");
while (!stop) {
  writeAtomic(path, versions[n++ % 2]!);
  if (n % 50 === 0) await new Promise((r) => setTimeout(r, 0)); // let stdin's close be seen
}
console.log(`wrote ${n}`);
