/**
 * The floor the benchmark compares against: a bare Deno.serve answering a constant small
 * JSON body, no framework, no I/O.
 */
const port = Number(Deno.args[0] ?? 0);
const body = JSON.stringify({ ready: true, baseline: "bare Deno.serve, constant JSON" });
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.log(`baseline listening on http://127.0.0.1:${port}/`),
}, () =>
  new Response(body, {
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  }));
