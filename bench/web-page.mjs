// bench/web-page.mjs URL DAG...: for each DAG, how long the page takes to
// be interactive (navigation to the first grid rows and the graph drawn)
// and how scrolling the whole grid goes (frame intervals while the
// scroll position moves a viewport at a time), in headless Chromium.
// Prints one JSON object per DAG.  Used by bench/web.  NO_SCROLL=1: only
// how long the page takes to be interactive.
import { openChromium } from "../t/web/chromium.mjs";

const [url, ...dags] = process.argv.slice(2);
const browser = await openChromium("dag-web-bench-");
try {
  const page = await browser.page();
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
  await browser.close();
}
