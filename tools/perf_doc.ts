/**
 * `deno task perf-doc`: copies the figures, the profiles and the heap of the last `deno task
 * bench` (`dist/bench.md`) into `docs/performance.md`, so the document's figures all come from
 * one run. Each copied part sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the
 * prose around them is kept as it is.
 *
 * @module
 */

/** The parts of the report, by marker name: how each is found in `dist/bench.md`. */
const PARTS: Record<string, (report: string) => string> = {
  table: (r) => between(r, "| endpoint |", "\n\n"),
  figures: (r) =>
    "```\n" + [
      line(r, "RSS idle"),
      line(r, "CPU idle"),
      line(r, "stats file: "),
      line(r, "RSS growth"),
      line(r, "startup to first 200"),
      line(r, "stats file of "),
    ].join("\n") + "\n```",
  idle: (r) => section(r, "## CPU profile at idle"),
  heap: (r) => section(r, "## Heap at idle"),
  healthz: (r) => section(r, "## CPU profile: /api/healthz "),
  sqlite: (r) => section(r, "## CPU profile: /api/perf/sqlite "),
  metrics: (r) => section(r, "## CPU profile: /metrics "),
};

/**
 * Replaces every marked part of `doc` with the same part of `report`. Throws naming the part
 * when the report lacks it or the document has no markers for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splice } from "./perf_doc.ts";
 * const doc = "a\n<!-- bench:table -->\nold\n<!-- /bench:table -->\nb\n";
 * assert.equal(
 *   splice(doc, "x\n| endpoint | ratio |\n| /m | 0.9 |\n\nmore", ["table"]),
 *   "a\n<!-- bench:table -->\n\n| endpoint | ratio |\n| /m | 0.9 |\n\n<!-- /bench:table -->\nb\n",
 * );
 * ```
 */
export function splice(doc: string, report: string, names = Object.keys(PARTS)): string {
  let out = doc;
  for (const name of names) {
    const open = `<!-- bench:${name} -->`, close = `<!-- /bench:${name} -->`;
    const from = out.indexOf(open), to = out.indexOf(close);
    if (from < 0 || to < from) throw new Error(`docs: no ${open} … ${close}`);
    const part = PARTS[name]!(report);
    out = out.slice(0, from + open.length) + `\n\n${part}\n\n` + out.slice(to);
  }
  return out;
}

/** From `start` (included) to `end` (excluded). */
function between(report: string, start: string, end: string): string {
  const from = report.indexOf(start);
  if (from < 0) throw new Error(`bench report: no "${start}"`);
  const to = report.indexOf(end, from + start.length);
  return report.slice(from, to < 0 ? undefined : to).trim();
}

/** The one line that starts with `start`. */
function line(report: string, start: string): string {
  return between(report, `\n${start}`, "\n");
}

/** A `## ` section up to the next one, as a `### ` section. */
function section(report: string, heading: string): string {
  return between(report, heading, "\n## ").replace(/^## /gm, "### ");
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url);
  const report = Deno.readTextFileSync(new URL("dist/bench.md", root));
  const docPath = new URL("docs/performance.md", root);
  Deno.writeTextFileSync(docPath, splice(Deno.readTextFileSync(docPath), report));
  console.log("docs/performance.md: the figures, profiles and heap of dist/bench.md");
}
