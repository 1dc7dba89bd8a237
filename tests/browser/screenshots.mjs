// Screenshots of the main pages for a person to look at (issue 17): starts `koshi demo`, signs in
// as the demo head, and saves PNGs of each page in Russian and in Kazakh under the directory given
// (default ./screenshots).
//   node screenshots.mjs [DIR]      (after `cargo build -p koshi` and `npm ci`)
import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const KOSHI = process.env.KOSHI_BIN ?? new URL("../../target/debug/koshi", import.meta.url).pathname;
const out = process.argv[2] ?? "screenshots";
mkdirSync(out, { recursive: true });
const port = 18000 + Math.floor(Math.random() * 1000);
const dir = mkdtempSync(join(tmpdir(), "koshi-shots-"));
const demo = spawn(KOSHI, ["demo", "--listen", `127.0.0.1:${port}`, "--data-dir", join(dir, "data")], { env: { ...process.env, KOSHI_LOG: "error" } });
let text = "";
const [base, head, headPassword, admin, adminPassword, cert, key, sample] = await new Promise((resolve, reject) => {
  demo.stdout.on("data", (d) => {
    text += d;
    const m = text.match(/web app: (http:\/\/\S+)\/ui\//);
    const h = text.match(/approver: (\S+) with password (\S+)/);
    const a = text.match(/administrator: (\S+) with password (\S+)/);
    const c = text.match(/certificate (\S+) key (\S+); a request to file: (\S+);/);
    if (m && h && a && c && text.includes("\ntry:")) resolve([m[1], h[1], h[2], a[1], a[2], c[1], c[2], c[3]]);
  });
  demo.on("exit", (c) => reject(new Error(`koshi demo exited ${c}: ${text}`)));
});
// The demo company's director signs with his ЭЦП (a detached CMS), as his own tool would.
const sign = (path) => {
  execFileSync("openssl", ["cms", "-sign", "-binary", "-outform", "DER", "-signer", cert, "-inkey", key, "-in", path, "-out", `${path}.p7s`]);
  return `${path}.p7s`;
};
const request = join(dir, "request.json");
copyFileSync(sample, request);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (const [device, width] of [["laptop", 1366], ["tablet", 820]]) for (const lang of ["ru", "kk"]) {
  const name = `${device}-${lang}`;
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${base}/ui/sign-in?lang=${lang}`);
  await page.screenshot({ path: join(out, `${name}-sign-in.png`), fullPage: true });
  await page.locator("#username").fill(head);
  await page.locator("#password").fill(headPassword);
  await page.locator("form button[type=submit]").click();
  await page.waitForURL(/\/ui\/queue$/);
  await page.screenshot({ path: join(out, `${name}-queue.png`), fullPage: true });
  await page.locator("tbody tr a").first().click();
  await page.waitForURL(/\/ui\/cases\//);
  await page.screenshot({ path: join(out, `${name}-case.png`), fullPage: true });
  await page.goto(`${base}/ui/intake?purpose=family_reunification`);
  await page.screenshot({ path: join(out, `${name}-intake.png`), fullPage: true });
  await page.goto(`${base}/ui/intake/pr?ground=visa_free_state`);
  await page.screenshot({ path: join(out, `${name}-intake-pr.png`), fullPage: true });
  await page.goto(`${base}/ui/sla`);
  await page.screenshot({ path: join(out, `${name}-sla.png`), fullPage: true });
  await page.goto(`${base}/ui/approvals`);
  await page.screenshot({ path: join(out, `${name}-approvals.png`), fullPage: true });
  await page.locator("tbody tr a").first().click();
  await page.waitForURL(/\/ui\/cases\//);
  await page.screenshot({ path: join(out, `${name}-approval-case.png`), fullPage: true });
  await page.goto(`${base}/verify`);
  await page.screenshot({ path: join(out, `${name}-verify.png`), fullPage: true });
  await page.goto(`${base}/ui/queue`);
  await page.locator("form.sign-out button").click();
  await page.waitForURL(/\/ui\/sign-in$/);
  await page.locator("#username").fill(admin);
  await page.locator("#password").fill(adminPassword);
  await page.locator("form button[type=submit]").click();
  await page.waitForURL(/\/ui\/admin$/);
  await page.screenshot({ path: join(out, `${name}-admin.png`), fullPage: true });
  await page.close();
  // The inviting party's cabinet: sign-in with the ЭЦП, the request form, the request, the list.
  const cab = await browser.newPage({ viewport: { width, height: 900 }, acceptDownloads: true });
  await cab.goto(`${base}/cabinet?lang=${lang}`);
  await cab.screenshot({ path: join(out, `${name}-cabinet-sign-in.png`), fullPage: true });
  const [download] = await Promise.all([cab.waitForEvent("download"), cab.locator('a[href="/cabinet/statement?organisation=1"]').click()]);
  const statement = join(dir, `statement-${name}.json`);
  await download.saveAs(statement);
  await cab.locator("#statement").setInputFiles(statement);
  await cab.locator("#signature").setInputFiles(sign(statement));
  await cab.locator("main form button[type=submit]").click();
  await cab.waitForURL(/\/cabinet$/);
  await cab.goto(`${base}/cabinet/new`);
  await cab.screenshot({ path: join(out, `${name}-cabinet-new.png`), fullPage: true });
  await cab.locator("#request").setInputFiles(request);
  await cab.locator("#signature").setInputFiles(sign(request));
  await cab.locator("main form button[type=submit]").click();
  await cab.waitForURL(/\/cabinet\/requests\//);
  await cab.screenshot({ path: join(out, `${name}-cabinet-request.png`), fullPage: true });
  await cab.goto(`${base}/cabinet`);
  await cab.screenshot({ path: join(out, `${name}-cabinet.png`), fullPage: true });
  await cab.close();
}
await browser.close();
demo.kill();
console.log(`screenshots in ${out}`);
