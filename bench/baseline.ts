/**
 * The floor the benchmark compares against: a bare Deno.serve that answers each path with
 * exactly the status, headers and body bytes the service sent for it once (captured by
 * bench.ts into a JSON file), constant, with no framework and no I/O. One Map lookup per
 * request, nothing else: the difference to the service is the cost of the service's code.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read bench/baseline.ts CAPTURED.json [PORT]
 */
const [file, portArg] = Deno.args;
const captured: Record<string, { status: number; headers: [string, string][]; body: string }> = file
  ? JSON.parse(Deno.readTextFileSync(file))
  : {};
const responses = new Map(Object.entries(captured));
const fallback = JSON.stringify({ ready: true });
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(portArg ?? 0),
  onListen: ({ port }) => console.log(`baseline listening on http://127.0.0.1:${port}/`),
}, (req) => {
  const url = req.url;
  const r = responses.get(url.slice(url.indexOf("/", 8)));
  return r
    ? new Response(r.body, { status: r.status, headers: r.headers })
    : new Response(fallback, { headers: { "Content-Type": "application/json" } });
});
