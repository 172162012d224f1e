/** The README's security table stays true: every test it names exists. */
import assert from "node:assert/strict";

const README = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

/** Every test name in the suite (the literal first argument or `name:` of Deno.test). */
function testNames(): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(new URL(".", import.meta.url))) {
    if (!entry.name.endsWith("_test.ts")) continue;
    const text = Deno.readTextFileSync(new URL(entry.name, import.meta.url));
    for (const m of text.matchAll(/(?:Deno\.test\(\s*|name:\s*)(["'`])((?:(?!\1).)*)\1/g)) {
      names.push(m[2]!);
    }
  }
  return names;
}

Deno.test("the README's security table names tests that exist, one or more per row", () => {
  const section = README.slice(README.indexOf("## Security: every input has a budget"));
  const rows = section.split("\n## ")[0]!.split("\n").filter((l) => l.startsWith("| ")).slice(2);
  assert.ok(rows.length >= 12, `${rows.length} rows`);
  const names = testNames();
  for (const row of rows) {
    const cell = row.split(" | ").at(-1)!;
    const cited = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/:? …$/, ""));
    assert.ok(cited.length > 0, `no test named in: ${row.slice(0, 60)}`);
    for (const prefix of cited) {
      // A name with "…" stands for a test whose name starts with what comes before it.
      const start = prefix.split(" …")[0]!;
      assert.ok(names.some((n) => n.startsWith(start)), `no test named "${prefix}"`);
    }
  }
});

Deno.test("the README stays an operator's page: about 200 lines, every link to docs/ lands on a file and a heading", () => {
  assert.ok(README.split("\n").length <= 220, `${README.split("\n").length} lines`);
  const slug = (h: string) =>
    h.toLowerCase().replace(/[`]/g, "").replace(/[^a-z0-9 _-]/g, "").replaceAll(" ", "-");
  const docs = [
    README,
    ...[...Deno.readDirSync(new URL("../docs/", import.meta.url))]
      .filter((e) => e.name.endsWith(".md"))
      .map((e) => Deno.readTextFileSync(new URL(`../docs/${e.name}`, import.meta.url))),
  ];
  for (const text of docs) {
    for (const [, file, anchor] of text.matchAll(/\]\((?:docs\/)?([a-z_]+\.md)(?:#([^)]+))?\)/g)) {
      if (file === "README.md") continue;
      const target = Deno.readTextFileSync(new URL(`../docs/${file}`, import.meta.url));
      if (anchor === undefined) continue;
      const heads = [...target.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
      assert.ok(heads.includes(anchor), `${file}#${anchor}`);
    }
  }
});

Deno.test("the usage text main.ts prints is the README's", () => {
  const usage = Deno.readTextFileSync(new URL("../src/app/config.ts", import.meta.url));
  const start = README.indexOf("```\nmain.ts [");
  assert.ok(start >= 0, "the README's usage block");
  const block = README.slice(start + 4, README.indexOf("```", start + 4)).trimEnd();
  const lines = block.split("\n");
  assert.ok(lines.length >= 8, `${lines.length} lines`);
  for (const line of lines) assert.ok(usage.includes(line.trim()), `usage lacks: ${line}`);
});
