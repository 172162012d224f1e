/**
 * The dashboard in a real browser: Debian's chromium, headless, loads GET / from main.ts
 * (under its printed flags) fed by the simulated ingestor, runs the page's script, and the
 * numbers it shows must be the API's. Screenshots go to tests/artifacts/ (ignored by git).
 */
import assert from "node:assert/strict";
import { createSimulator, writeAtomic } from "../tools/simulator.ts";
import { fixture, isoSec, tempDir } from "./_helpers.ts";
import { getJson, startService } from "./_service.ts";
import { missing, needs, TOOLS } from "./_env.ts";

const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;

async function chromium(args: string[], profile: string) {
  try {
    const out = await new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } catch (err) {
    return { code: -1, stdout: "", stderr: String(err) };
  }
}

/** The `data-value` of the first element after `marker` in the dumped DOM. */
function valueAfter(dom: string, marker: string): string | undefined {
  const at = dom.indexOf(marker);
  if (at < 0) return undefined;
  return /data-value="([^"]*)"/.exec(dom.slice(at))?.[1];
}

/** The simulated ingestor in `dir` (ticked once, after `prepare`), and the service over it. */
async function simulatedService(
  dir: { path: (name: string) => string },
  prepare: (sim: ReturnType<typeof createSimulator>) => void = () => {},
) {
  const statsPath = dir.path("s.json"), dbPath = dir.path("m.db");
  const sim = createSimulator({ statsPath, dbPath });
  sim.tick();
  prepare(sim);
  const svc = await startService(["--port", "0", "--stats", statsPath, "--db", dbPath]);
  return { sim, svc, statsPath };
}

Deno.test(
  needs(
    missing(TOOLS.chromium),
    "dashboard: a real browser shows the API's numbers; screenshots saved",
    async () => {
      using dir = tempDir();
      const { sim, svc } = await simulatedService(dir);
      try {
        // The history fills at 1 Hz: wait until it holds four samples, the simulated
        // ingestor writing a new version as it goes.
        let samples = 0;
        const deadline = Date.now() + 15_000;
        while (samples < 4 && Date.now() < deadline) {
          sim.tick();
          samples = (await getJson(`${svc.base}/api/perf/history`)).body.samples.length;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(samples >= 4, `${samples} history samples`);
        const url = `${svc.base}/`;
        const historyLoads = async () =>
          (await getJson(`${svc.base}/api/perf`)).body.endpoints["/api/perf/history"]?.count ?? 0;
        const before = await historyLoads();
        const run = await chromium(
          ["--virtual-time-budget=4000", "--dump-dom", url],
          dir.path("profile"),
        );
        assert.equal(run.code, 0, run.stderr.slice(-2000));
        const dom = run.stdout;
        assert.match(dom, /<body[^>]*data-ready="1"/, "the page rendered live data");
        // Refreshes every 2 s: within 4 s of (virtual) time, the load and one or two refreshes.
        const loads = (await historyLoads()) - before;
        assert.ok(loads >= 2 && loads <= 3, `history fetched ${loads} times in 4 s`);
        const [ws, sql, hz] = await Promise.all([
          getJson(`${svc.base}/api/perf/write-sources`),
          getJson(`${svc.base}/api/perf/sqlite`),
          getJson(`${svc.base}/api/healthz`),
        ]);
        assert.equal(
          valueAfter(dom, 'data-source="tx_inserted"'),
          String(ws.body.sources.tx_inserted),
        );
        assert.equal(
          valueAfter(dom, 'data-source="obs_inserted"'),
          String(ws.body.sources.obs_inserted),
        );
        assert.equal(valueAfter(dom, 'id="page-count"'), String(sql.body.pageCount));
        for (const [name, verdict] of Object.entries(hz.body.ingest.sources)) {
          assert.match(dom, new RegExp(`data-name="${name}" data-verdict="${verdict}"`), name);
        }
        // The disk card: the free space healthz reports, in the page's units.
        const free = hz.body.ingest.diskSpace.freeBytes / 2 ** 30;
        assert.match(dom, new RegExp(`class="big ok" id="disk-free">${free.toFixed(1)} GiB<`));
        assert.match(dom, /id="disk" class="ok" data-verdict="ok"/);
        assert.ok(!dom.includes("demo-s3cret") && !dom.includes("demo-hunter2"));

        await Deno.mkdir(ARTIFACTS, { recursive: true });
        for (
          const [file, extra] of [
            ["dashboard.png", ["--window-size=1280,860"]],
            ["dashboard-phone-dark.png", [
              "--window-size=390,1400",
              "--force-dark-mode",
              "--blink-settings=preferredColorScheme=0",
            ]],
          ] as const
        ) {
          const shot = await chromium(
            [
              ...extra,
              "--virtual-time-budget=4000",
              "--hide-scrollbars",
              `--screenshot=${ARTIFACTS}${file}`,
              url,
            ],
            dir.path(`profile-${file}`),
          );
          assert.equal(shot.code, 0, shot.stderr.slice(-2000));
          assert.ok(
            Deno.statSync(`${ARTIFACTS}${file}`).size > 10_000,
            `${file} is a real picture`,
          );
        }
      } finally {
        sim.stop();
        await svc.stop();
      }
    },
  ),
);

Deno.test(
  needs(
    missing(TOOLS.chromium),
    "dashboard: hostile names from the stats file are shown as text and never run",
    async () => {
      using dir = tempDir();
      const statsPath = dir.path("s.json");
      // Markup that would set data-pwned on <body> if any of it were ever parsed as HTML.
      const img = `<img src=x onerror="document.body.dataset.pwned='img'">`;
      const svg = `<svg onload="document.body.dataset.pwned='svg'"></svg>`;
      const quote = `x" onmouseover="document.body.dataset.pwned='attr`;
      const doc = fixture(isoSec(Date.now()));
      const now = Math.floor(Date.now() / 1000);
      // Write-source names of markup never get this far (left out when the file is parsed);
      // source names and brokers are any text, and must be shown as text.
      doc.backfillUpdates = { [img]: 5, [quote]: 6, path_json: 7 };
      doc.source_liveness = {
        [svg]: { lastReceiptUnix: now, lastMessageUnix: now },
        [img]: { lastReceiptUnix: now, lastMessageUnix: now },
      };
      Deno.writeTextFileSync(statsPath, JSON.stringify(doc));
      const svc = await startService([
        "--port",
        "0",
        "--stats",
        statsPath,
        "--db",
        dir.path("m.db"),
      ]);
      try {
        const run = await chromium(
          ["--virtual-time-budget=3000", "--dump-dom", `${svc.base}/`],
          dir.path("profile"),
        );
        assert.equal(run.code, 0, run.stderr.slice(-2000));
        const dom = run.stdout;
        assert.match(dom, /<body[^>]*data-ready="1"/, "the page rendered the hostile file");
        assert.doesNotMatch(dom, /data-pwned/, "no name ran as markup");
        // In a cell's text, not parsed: `<td>&lt;img`, never `<td><img`.
        assert.ok(dom.includes("<td>&lt;img src=x onerror="), "a source name, as text");
        assert.ok(dom.includes("<td>&lt;svg onload="), "a liveness name, as text");
        assert.ok(dom.includes("<td>backfill_path_json</td>"), "the plain write source is there");
        assert.ok(!dom.includes("backfill_&lt;"), "markup write-source names were left out");
        assert.doesNotMatch(dom, /<(img|svg) [^>]*pwned/, "no element was made of a name");
      } finally {
        await svc.stop();
      }
    },
  ),
);

/**
 * The page as the service sends it, plus a script (after the page's own) that reports the
 * layout once the page has rendered data: each section's size and whether anything in it,
 * or the page itself, is wider than its box. Served by the test on its own port, every other
 * path proxied to the service, so the page under test is byte for byte the shipped one.
 */
const LAYOUT_PROBE = `<script>
const report = () => {
  if (document.body.dataset.ready !== "1") return setTimeout(report, 50);
  const out = [...document.querySelectorAll("main > section")].map((s) => ({
    title: s.querySelector("h2").textContent,
    width: s.getBoundingClientRect().width,
    height: s.getBoundingClientRect().height,
    overflow: s.scrollWidth > s.clientWidth + 1,
  }));
  document.body.dataset.layout = JSON.stringify({
    sections: out,
    page: document.documentElement.scrollWidth > window.innerWidth + 1,
  });
};
report();
</script>`;

Deno.test(
  needs(
    missing(TOOLS.chromium),
    "dashboard: at 390, 800 and 1280 px every section is visible and nothing overflows; a dead ingestor reads down",
    async () => {
      using dir = tempDir();
      const { sim, svc, statsPath } = await simulatedService(dir, (sim) => {
        sim.brokerDown("regional", true);
        sim.tick();
      });
      const page = (await (await fetch(`${svc.base}/`)).text()).replace(
        "</body>",
        `${LAYOUT_PROBE}</body>`,
      );
      const harness = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/") return new Response(page, { headers: { "content-type": "text/html" } });
        return fetch(`${svc.base}${path}`);
      });
      const url = `http://127.0.0.1:${harness.addr.port}/`;
      const layoutOf = async (width: number) => {
        const run = await chromium(
          [`--window-size=${width},1000`, "--virtual-time-budget=3000", "--dump-dom", url],
          dir.path(`profile-${width}`),
        );
        assert.equal(run.code, 0, run.stderr.slice(-2000));
        const m = /data-layout="([^"]*)"/.exec(run.stdout);
        assert.ok(m, `no layout report at ${width} px`);
        return { dom: run.stdout, layout: JSON.parse(m[1]!.replaceAll("&quot;", '"')) };
      };
      try {
        for (const width of [390, 800, 1280]) {
          const { dom, layout } = await layoutOf(width);
          assert.equal(layout.page, false, `the page scrolls sideways at ${width} px`);
          const titles = layout.sections.map((s: { title: string }) => s.title);
          assert.deepEqual(titles, [
            "Disk I/O",
            "SQLite",
            "Disk",
            "Ingest",
            "MQTT",
            "Write sources",
          ]);
          for (const s of layout.sections) {
            assert.ok(s.width > 100 && s.height > 40, `${s.title} hidden at ${width} px`);
            assert.equal(s.overflow, false, `${s.title} overflows at ${width} px`);
          }
          // The new verdicts in the ingest card, the disk card's forecast (a service just
          // started: learning), the write sources' baseline in their unit, learning too.
          assert.match(dom, /id="writer-lock" class="(ok|unknown)" data-verdict="(ok|unknown)"/);
          assert.match(dom, /id="disk" class="ok" data-verdict="ok"/);
          assert.match(
            dom,
            /id="disk-forecast" data-verdict="ok">learning the rate \(\d+ s of the 15 min it needs\)</,
          );
          assert.match(
            dom,
            /title="the mean rate per second over the last 5 minutes">5-min mean \/s</,
          );
          assert.match(dom, /<td class="num wide baseline muted">learning<\/td>/);
          // The MQTT card: the dropped broker, its last error, as text.
          assert.match(dom, /data-mqtt="regional" data-connected="0"/);
          assert.match(dom, /<td class="err">EOF<\/td>/);
          assert.match(dom, /data-verdict="disconnected"/);
        }
        // The ingestor dies: its last file goes stale (here: written 10 s ago), and the header
        // says down, in red.
        sim.faults.hung = true;
        const last = JSON.parse(Deno.readTextFileSync(statsPath));
        last.sampledAt = last.procIO.sampledAt = isoSec(Date.now() - 10_000);
        writeAtomic(statsPath, JSON.stringify(last));
        const { dom } = await layoutOf(800);
        assert.match(dom, /id="status" class="bad" data-status="down">ingest down</);
      } finally {
        sim.stop();
        await harness.shutdown();
        await svc.stop();
      }
    },
  ),
);
