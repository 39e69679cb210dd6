// bench/web-page.mjs URL DAG...: for each DAG, how long the page takes to
// be interactive (navigation to the first grid rows and the graph drawn)
// and how scrolling the whole grid goes (frame intervals while the
// scroll position moves a viewport at a time), in headless Chromium.
// Prints one JSON object per DAG.  Used by bench/web.  NO_SCROLL=1: only
// how long the page takes to be interactive.
import { createRequire } from "module";
import fs from "fs";
import os from "os";
import path from "path";

const require = createRequire(import.meta.url);
const { chromium } = require(path.join(process.env.PW_DIR, "playwright-core"));
const [url, ...dags] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "dag-web-bench-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1200, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  for (const dag of dags) {
    await page.goto("about:blank");
    const t0 = Date.now();
    await page.goto(url + "/#/dag/" + dag);
    await page.waitForSelector("#grid .grid-row .cell");
    await page.waitForSelector("#graph svg");
    const interactive = Date.now() - t0;
    if (process.env.NO_SCROLL) {
      console.log(JSON.stringify({ dag, interactive_ms: interactive }));
      continue;
    }
    const scroll = await page.evaluate(async () => {
      const box = document.getElementById("grid-scroll");
      const frames = [];
      let last = performance.now();
      let rows = 0;
      for (let top = 0; top < box.scrollHeight; top += box.clientHeight) {
        box.scrollTop = top;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
        rows = Math.max(rows, ...[...box.querySelectorAll(".grid-row")].map((r) => +r.dataset.row));
      }
      frames.sort((a, b) => a - b);
      return {
        frames: frames.length, rows_reached: rows + 1,
        median_frame_ms: frames[Math.floor(frames.length / 2)],
        p95_frame_ms: frames[Math.floor(frames.length * 0.95)],
        max_frame_ms: frames[frames.length - 1],
        dom_rows: box.querySelectorAll(".grid-row").length,
      };
    });
    console.log(JSON.stringify({ dag, interactive_ms: interactive, ...scroll }));
  }
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
