/**
 * A stand-in for CoreScope's container, for the container test: inside it, as root, the
 * simulated ingestor writes the stats file (0600, root's) and the database under /app/data,
 * and an HTTP server on :3000 answers for CoreScope's Go server.
 */
import { createSimulator } from "../tools/simulator.ts";

const sim = createSimulator({
  statsPath: "/app/data/ingestor-stats.json",
  dbPath: "/app/data/meshcore.db",
});
sim.start(1000);
Deno.serve(
  { hostname: "0.0.0.0", port: 3000, onListen: () => console.log("standin ready") },
  (req) => Response.json({ from: "corescope", path: new URL(req.url).pathname }),
);
