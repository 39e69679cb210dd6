// t/web/browser.mjs: drive the web UI in headless Chromium (Debian's,
// through playwright-core) the way a person would, and check what the
// pages show against the CLI.  Called by t/t7300-web-browser.sh:
//
//   node browser.mjs URL ARTEFACTS STATUS.json SLOW_BACKFILL_CMD...
//
// URL is a running dag-cli serve; ARTEFACTS gets the screenshots and
// timings.json; STATUS.json is `dag-cli status chain --json`; the rest
// is a command starting a slow backfill of the DAG "slow", whose progress
// the page must follow to the end.  Exits non-zero with a message on the
// first check that fails.
import { spawn } from "child_process";
import fs from "fs";
import path from "path";
import { openChromium } from "./chromium.mjs";

const [url, artefacts, statusFile, ...slowCmd] = process.argv.slice(2);
const status = JSON.parse(fs.readFileSync(statusFile, "utf8"));
const timings = {};

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

const browser = await openChromium("dag-web-chromium-");
const errors = [];
let code = 0;
try {
  const page = await browser.page();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // The DAG list.
  let t0 = Date.now();
  await page.goto(url + "/#/");
  await page.waitForSelector("#dags tr[data-dag=chain]");
  timings.list_ms = Date.now() - t0;
  await page.screenshot({ path: path.join(artefacts, "dags.png") });

  // The grid: every cell, scrolled through, against status --json.
  t0 = Date.now();
  await page.goto(url + "/#/dag/chain");
  await page.waitForSelector("#grid .grid-row .cell");
  await page.waitForSelector("#graph svg");
  timings.grid_interactive_ms = Date.now() - t0;
  await page.screenshot({ path: path.join(artefacts, "grid.png") });
  const seen = await page.evaluate(async () => {
    const box = document.getElementById("grid-scroll");
    const cells = {};
    for (let top = 0; ; top += box.clientHeight / 2) {
      box.scrollTop = top;
      box.dispatchEvent(new Event("scroll"));
      await new Promise((r) => requestAnimationFrame(r));
      for (const c of box.querySelectorAll(".cell"))
        cells[c.dataset.task + " " + c.dataset.partition] = c.dataset.state +
          " " + c.textContent;
      if (box.scrollTop + box.clientHeight >= box.scrollHeight) break;
    }
    return cells;
  });
  const glyphs = { done: "\u2713", failed: "\u2717", upstream_failed: "\u21e1",
    missing: "\u25cb", waiting: "\u2026", running: "\u25b6", stale: "\u2248" };
  for (const i of status.instances) {
    const got = seen[i.task + " " + i.partition];
    check(got === i.state + " " + glyphs[i.state],
      `${i.task} ${i.partition}: page shows '${got}', status --json says ${i.state}`);
  }
  check(Object.keys(seen).length === status.instances.length,
    `page has ${Object.keys(seen).length} cells, status --json ${status.instances.length}`);

  // The graph: each node filled with its state's colour for the latest partition.
  const latest = status.instances.map((i) => i.partition).sort().pop();
  const fills = await page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll("#graph svg g.node")].map((g) =>
      [g.id.replace(/^task-/, ""), g.querySelector("path,polygon").getAttribute("fill")])));
  const colour = { done: "#009e73", failed: "#d55e00", upstream_failed: "#e69f00",
    missing: "#e0e0e0", running: "#56b4e9", waiting: "#f0e442" };
  for (const i of status.instances.filter((x) => x.partition === latest))
    check(fills[i.task] === colour[i.state],
      `graph node ${i.task} is ${fills[i.task]}, want ${colour[i.state]} (${i.state})`);
  await page.locator("#graph").screenshot({ path: path.join(artefacts, "graph.png") });

  // An instance: click the first failed cell; its attempts and its log.
  const failed = status.instances.find((i) => i.state === "failed");
  await page.evaluate(() => { document.getElementById("grid-scroll").scrollTop = 0; });
  await page.evaluate((p) => {
    location.hash = "#/dag/chain/" + p.task + "/" + p.partition;
  }, failed);
  await page.waitForSelector("#attempts tr[data-attempt]");
  const rows = await page.locator("#attempts tr[data-attempt]").count();
  check(rows === failed.attempts, `${rows} attempt rows, status says ${failed.attempts}`);
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("broken input"));
  const exitCell = await page.locator("#attempts tr[data-attempt] td").nth(4).textContent();
  check(/exit 3/.test(exitCell), `exit column shows '${exitCell}'`);
  await page.screenshot({ path: path.join(artefacts, "instance.png") });

  // A running backfill: the page follows it to the end.
  await page.goto(url + "/#/dag/slow");
  await page.waitForSelector("#progress");
  const child = spawn(slowCmd[0], slowCmd.slice(1), { stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  await page.waitForSelector("#progress .run[data-running='1']", { timeout: 20000 });
  const doneText = () => page.locator("#progress .run[data-running='1'] [data-k=done]")
    .first().textContent().catch(() => "");
  const first = await doneText();
  await page.waitForFunction((f) => {
    const e = document.querySelector("#progress .run[data-running='1'] [data-k=done]");
    return e && e.textContent !== f;
  }, first, { timeout: 20000 });
  await page.screenshot({ path: path.join(artefacts, "progress.png") });
  const rc = await exited;
  check(rc === 0, `the slow backfill exited ${rc}`);
  await page.waitForSelector("#progress .run[data-running='0']", { timeout: 10000 });
  const final = await page.locator("#progress .run[data-running='0'] [data-k=done]").first().textContent();
  check(final === "done 12", `after the backfill the page shows '${final}'`);
  const left = await page.locator("#progress .run[data-running='0'] [data-k=left]").first().textContent();
  check(left === "left 0", `after the backfill the page shows '${left}'`);
  await page.waitForFunction(() =>
    document.querySelectorAll("#grid .cell[data-state=done]").length === 12, null, { timeout: 10000 });
  await page.screenshot({ path: path.join(artefacts, "progress-done.png") });
  check(!errors.length, "errors in the page: " + errors.join("; "));
  fs.writeFileSync(path.join(artefacts, "timings.json"), JSON.stringify(timings) + "\n");
  console.log("browser checks passed", JSON.stringify(timings));
} catch (e) {
  console.error(String(e && e.stack || e));
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
