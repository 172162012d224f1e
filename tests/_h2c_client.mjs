// An HTTP/2 client with prior knowledge (h2c) for the budget test, run by Node: opens
// CONNS connections of STREAMS streams each to PATH, reads none of the answers (a tiny flow
// control window, streams paused), prints "ready" with the statuses once every stream has
// its response head, and holds everything open until its standard input closes.
import http2 from "node:http2";
const [url, path, host, conns, streams] = process.argv.slice(2);
const statuses = {};
let heads = 0;
const total = Number(conns) * Number(streams);
const sessions = [];
for (let c = 0; c < Number(conns); c++) {
  const s = http2.connect(url, { settings: { initialWindowSize: 1024 } });
  s.on("error", () => {});
  sessions.push(s);
  for (let i = 0; i < Number(streams); i++) {
    const r = s.request({ ":path": path, ...(host ? { host } : {}) });
    r.on("error", () => {});
    r.on("response", (h) => {
      statuses[h[":status"]] = (statuses[h[":status"]] ?? 0) + 1;
      r.pause();
      if (++heads === total) console.log(`ready ${JSON.stringify(statuses)}`);
    });
  }
}
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  for (const s of sessions) s.destroy();
  process.exit(0);
});
