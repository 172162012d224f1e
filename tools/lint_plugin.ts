/**
 * The project's own lint rule, run by `deno lint` (deno.json `lint.plugins`) and by
 * `tests/layers_test.ts`: outside `tests/`, every function, method, getter and arrow function
 * spans at most {@linkcode MAX_FUNCTION_LINES} lines, from its first line to its last. A long
 * function is where a reader loses the thread; splitting it names its parts. Tests are left
 * out: a scenario told in one piece reads better than one cut to fit.
 *
 * @module
 */

/** Lines a function may span at most (its first to its last line, both counted). */
export const MAX_FUNCTION_LINES = 80;

/** Lines `text[start, end)` spans. */
function linesOf(text: string, start: number, end: number): number {
  let n = 1;
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** The plugin: one rule, `corescope/function-length`. */
const plugin: Deno.lint.Plugin = {
  name: "corescope",
  rules: {
    "function-length": {
      create(ctx) {
        if (/[\\/]tests[\\/]/.test(ctx.filename)) return {};
        const text = ctx.sourceCode.text;
        const check = (node: Deno.lint.Node) => {
          const lines = linesOf(text, node.range[0], node.range[1]);
          if (lines > MAX_FUNCTION_LINES) {
            ctx.report({
              node,
              message: `this function spans ${lines} lines; at most ${MAX_FUNCTION_LINES}`,
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};

export default plugin;
