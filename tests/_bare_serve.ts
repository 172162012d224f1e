/**
 * The floor the memory and speed tests compare with: a bare Deno.serve that answers every
 * request with `/livez`'s bytes and headers. Prints its listening line as the service does.
 * Usage: deno run --allow-net=127.0.0.1 tests/_bare_serve.ts
 */
const body = JSON.stringify({ alive: true });
const headers = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`corescope-perf listening on http://127.0.0.1:${port}/`),
}, () => new Response(body, { headers }));
