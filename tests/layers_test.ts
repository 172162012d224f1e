/**
 * The import graph of `src/`: no module reaches itself through its imports (type imports
 * included), so every module sits on a floor and imports only from floors below it.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/** Each module of src/ and the src/ modules it imports (static, dynamic, type-only). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const e of Deno.readDirSync(SRC)) {
    if (!e.name.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(new URL(e.name, SRC));
    // Code only: the JSDoc examples import their own module, which is no dependency.
    const code = text.replace(/\/\*\*[\s\S]*?\*\//g, "");
    const deps = [...code.matchAll(/(?:from|import\()\s*"\.\/([a-z_0-9]+\.ts)"/g)].map((m) =>
      m[1]!
    );
    g.set(e.name, [...new Set(deps)]);
  }
  return g;
}

/** A cycle as a list of modules, or undefined. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (m: string): string[] | undefined => {
    if (state.get(m) === "done") return undefined;
    if (state.get(m) === "open") return [...stack.slice(stack.indexOf(m)), m];
    state.set(m, "open");
    stack.push(m);
    for (const d of g.get(m) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(m, "done");
    return undefined;
  };
  for (const m of g.keys()) {
    const c = visit(m);
    if (c) return c;
  }
  return undefined;
}

Deno.test("src/ has no import circle: its modules stand on floors that only import downward", () => {
  const g = graph();
  assert.ok(g.size > 20, `${g.size} modules`);
  for (const deps of g.values()) for (const d of deps) assert.ok(g.has(d), `${d} is in src/`);
  const cycle = findCycle(g);
  assert.equal(cycle, undefined, `import circle: ${cycle?.join(" -> ")}`);
});

Deno.test("the cycle finder finds a circle", () => {
  const g = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]]]);
  assert.deepEqual(findCycle(g), ["a.ts", "b.ts", "c.ts", "a.ts"]);
});

Deno.test("every function outside tests stays under 80 lines", () => {
  const files = [
    ...[...Deno.readDirSync(SRC)].map((e) => new URL(e.name, SRC)),
    ...["tools/", "bench/"].flatMap((d) => {
      const dir = new URL(`../${d}`, import.meta.url);
      return [...Deno.readDirSync(dir)].map((e) => new URL(e.name, dir));
    }),
    new URL("../main.ts", import.meta.url),
  ].filter((u) => u.pathname.endsWith(".ts"));
  const long: string[] = [];
  for (const url of files) {
    const lines = Deno.readTextFileSync(url).split("\n");
    lines.forEach((line, i) => {
      const m = /^(?:export )?(?:async )?function (\w+)/.exec(line);
      if (!m) return;
      const end = lines.indexOf("}", i + 1);
      if (end - i + 1 > 80) {
        long.push(`${url.pathname.split("/").slice(-2).join("/")} ${m[1]}: ${end - i + 1}`);
      }
    });
  }
  assert.deepEqual(long, []);
});
