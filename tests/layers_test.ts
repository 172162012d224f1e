/**
 * The shape of `src/`: five folders, each a floor of the pipeline, that import only from their
 * own floor or below (inputs are read, then judged, then served over HTTP, and the app wires
 * them together); no module reaches itself through its imports; every function outside the
 * tests stays short, by its real extent (the lint plugin deno lint runs); and
 * docs/development.md names every module where it lives.
 */
import assert from "node:assert/strict";
import plugin, { MAX_FUNCTION_LINES } from "../tools/lint_plugin.ts";

const ROOT = new URL("..", import.meta.url);
const SRC = new URL("src/", ROOT);

/** The floors, bottom first: a module may import from its own floor or any floor below. */
const FLOORS = ["base", "inputs", "judge", "http", "app"] as const;

/** Every `.ts` file under `dir`, as paths relative to the repository root. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(new URL(rel, ROOT))) {
      if (e.isDirectory) walk(`${rel}${e.name}/`);
      else if (e.name.endsWith(".ts")) out.push(`${rel}${e.name}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** Each module of src/ (`judge/verdicts.ts`) and the src/ modules it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of tsFiles("src/")) {
    const mod = file.slice("src/".length);
    const text = Deno.readTextFileSync(new URL(file, ROOT));
    // Code only: the JSDoc examples import their own module, which is no dependency.
    const code = text.replace(/\/\*\*[\s\S]*?\*\//g, "");
    const deps = [...code.matchAll(/(?:from|import\()\s*"(\.\.?\/[^"]+\.ts)"/g)].map((m) =>
      new URL(m[1]!, new URL(file, ROOT)).pathname.slice(SRC.pathname.length)
    );
    g.set(mod, [...new Set(deps)]);
  }
  return g;
}

/** The floor of a module (`judge/verdicts.ts` → 2), -1 when it is in no floor's folder. */
function floorOf(mod: string): number {
  return FLOORS.indexOf(mod.split("/")[0] as typeof FLOORS[number]);
}

/** Imports that go up a floor, as `from -> to`. */
function upward(g: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [mod, deps] of g) {
    for (const d of deps) if (floorOf(d) > floorOf(mod)) out.push(`${mod} -> ${d}`);
  }
  return out;
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

Deno.test("src/ is five floors (base, inputs, judge, http, app), each importing only its own or lower ones", () => {
  const g = graph();
  assert.ok(g.size > 30, `${g.size} modules`);
  for (const mod of g.keys()) assert.ok(floorOf(mod) >= 0, `${mod} is in one of ${FLOORS}`);
  for (const deps of g.values()) for (const d of deps) assert.ok(g.has(d), `${d} is in src/`);
  assert.deepEqual(upward(g), []);
  const cycle = findCycle(g);
  assert.equal(cycle, undefined, `import circle: ${cycle?.join(" -> ")}`);
});

Deno.test("the layer check finds an upward import, a module outside the floors and a circle", () => {
  assert.deepEqual(upward(new Map([["judge/a.ts", ["http/b.ts", "base/c.ts"]]])), [
    "judge/a.ts -> http/b.ts",
  ]);
  assert.deepEqual(upward(new Map([["http/a.ts", ["http/b.ts", "app/c.ts"]]])), [
    "http/a.ts -> app/c.ts",
  ]);
  assert.equal(floorOf("loose.ts"), -1);
  assert.equal(floorOf("base/x.ts"), 0);
  assert.equal(floorOf("app/x.ts"), FLOORS.length - 1);
  const g = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]]]);
  assert.deepEqual(findCycle(g), ["a.ts", "b.ts", "c.ts", "a.ts"]);
  assert.equal(findCycle(new Map([["a.ts", ["b.ts"]], ["b.ts", []]])), undefined);
});

/** What the function-length rule reports for `source`, as `line: message`. */
function longFunctions(file: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, file, source).map((d) => {
    const line = source.slice(0, d.range[0]).split("\n").length;
    return `${file}:${line}: ${d.message}`;
  });
}

Deno.test("every function, method and arrow function outside tests spans at most 80 lines", () => {
  const files = [...tsFiles("src/"), ...tsFiles("tools/"), ...tsFiles("bench/"), "main.ts"];
  assert.ok(files.length > 40, `${files.length} files`);
  const long = files.flatMap((f) =>
    longFunctions(new URL(f, ROOT).pathname, Deno.readTextFileSync(new URL(f, ROOT)))
  );
  assert.deepEqual(long, []);
});

Deno.test("the function-length rule measures every kind of function by its real extent", () => {
  const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  x${i}();`).join("\n");
  const at = MAX_FUNCTION_LINES, over = MAX_FUNCTION_LINES + 1;
  const shapes: [string, (n: number) => string][] = [
    ["declaration", (n) => `function f() {\n${body(n)}\n}\n`],
    ["method", (n) => `class A {\n  m() {\n${body(n)}\n  }\n}\n`],
    ["getter", (n) => `class A {\n  get g() {\n${body(n)}\n  }\n}\n`],
    ["arrow", (n) => `const f = () => {\n${body(n)}\n};\n`],
    ["function expression", (n) => `const f = function () {\n${body(n)}\n};\n`],
    ["object method", (n) => `const o = {\n  m() {\n${body(n)}\n  },\n};\n`],
  ];
  for (const [kind, src] of shapes) {
    assert.deepEqual(longFunctions("/src/x.ts", src(at)), [], `${kind} of ${at} lines`);
    const found = longFunctions("/src/x.ts", src(over));
    assert.equal(found.length, 1, `${kind} of ${over} lines: ${found}`);
    assert.match(found[0]!, new RegExp(`spans ${over} lines`), kind);
  }
  // A function inside a test file is not measured.
  assert.deepEqual(longFunctions("/repo/tests/x_test.ts", shapes[0]![1](over)), []);
});

Deno.test("docs/development.md names every module of src/ where it lives, and nothing else", () => {
  const doc = Deno.readTextFileSync(new URL("docs/development.md", ROOT));
  const named = new Set([...doc.matchAll(/`(src\/[a-z0-9_/]+\.ts)`/g)].map((m) => m[1]!));
  const modules = tsFiles("src/");
  assert.deepEqual(modules.filter((m) => !named.has(m)), [], "modules the doc does not name");
  assert.deepEqual([...named].filter((m) => !modules.includes(m)), [], "named, not in src/");
});
