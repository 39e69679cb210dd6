// t/web/chromium.mjs: headless Chromium (Debian's, through playwright-core
// in $PW_DIR) on a profile of its own, as t/web/browser.mjs and
// bench/web-page.mjs drive it.
import { createRequire } from "module";
import fs from "fs";
import os from "os";
import path from "path";

const require = createRequire(import.meta.url);

// Start it on a fresh profile directory named from prefix.  Returns the
// browser context, its first page, and close(), which ends the browser
// and removes the profile.
export async function openChromium(prefix) {
  const { chromium } = require(path.join(process.env.PW_DIR, "playwright-core"));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  return {
    ctx,
    page: async () => ctx.pages()[0] || await ctx.newPage(),
    close: async () => {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
