// bun run bench:web — the web app on the real master (a separate process, SQLite store):
// the gzipped size of the JavaScript the login page loads (the entry and every chunk it imports
// statically), and the time from navigation to the first rendered table (Nodes, logged in) in
// headless Chromium, median of several cold page loads. The first request also builds the
// bundle (Bun.build in the master): its time is printed on its own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { client, spawnMaster } from "../test/helpers/processes";
import { benchLine, median } from "./lib";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT_PW = "benchRoot1!";

const executablePath = Bun.which("chromium") ?? Bun.which("chromium-browser");
if (!executablePath) throw new Error("bench:web needs Debian's chromium (apt-get install chromium)");

const dataDir = mkdtempSync(join(tmpdir(), "hangar-bench-web-"));
const master = await spawnMaster({ HANGAR_DATA_DIR: dataDir, HANGAR_ROOT_PASSWORD: ROOT_PW });
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-background-networking"] });
try {
  // First request: the master builds the bundle.
  let t0 = performance.now();
  const html = await (await fetch(`${master.url}/login`)).text();
  const buildMs = performance.now() - t0;

  // The JS the login page loads: its module scripts and their static imports.
  const seen = new Set<string>();
  let gzBytes = 0;
  let rawBytes = 0;
  const queue = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map((m) => m[1] as string);
  for (let src = queue.shift(); src; src = queue.shift()) {
    if (seen.has(src)) continue;
    seen.add(src);
    const body = new Uint8Array(
      await (await fetch(new URL(src, master.url), { headers: { "accept-encoding": "identity" } })).arrayBuffer(),
    );
    rawBytes += body.length;
    gzBytes += Bun.gzipSync(body).length;
    const text = new TextDecoder().decode(body);
    for (const m of text.matchAll(/(?:import|from)\s*["'](\/assets\/[^"']+\.js)["']/g)) queue.push(m[1] as string);
  }

  // A logged-in admin (password changed, as the first login asks) opening /nodes.
  const api = client(master.url);
  const login = await api("POST", "/api/auth/login", undefined, { userId: "root", password: ROOT_PW });
  let token = login.body.token as string;
  await api("POST", "/api/me/password", token, { current: ROOT_PW, next: "benchRoot2!" });
  token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: "benchRoot2!" })).body.token;

  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript((t) => sessionStorage.setItem("hangar.token", t), token);
    const page = await context.newPage();
    t0 = performance.now();
    await page.goto(`${master.url}/nodes`, { waitUntil: "commit" });
    await page.locator('table[aria-label="Nodes"] tbody tr').first().waitFor();
    times.push(performance.now() - t0);
    await context.close();
  }
  console.log(
    `web bundle: ${seen.size} script(s), ${(rawBytes / 1024).toFixed(1)} KB minified, built in ${buildMs.toFixed(0)} ms on the first request`,
  );
  console.log(`first table (Nodes): ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  console.log(benchLine("web-bundle-kb", gzBytes / 1024, "<=250"));
  console.log(benchLine("web-first-table-ms", median(times), "<=1000"));
} finally {
  await browser.close();
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
