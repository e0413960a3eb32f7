// The web app in headless Chromium (Debian's, driven by playwright-core) against a real master
// with the scheduler, the harness's worker stand-ins, its registry and the real Docker Engine.
// The admin walk of the manual (§3): add a node with Get Info and connect it, add users, pull a
// Docker image, create a workspace (and see a reservation clash); the researcher walk (§4):
// upload a dataset (a forbidden name refused), create a training, run a job with two parameter
// sets and read both logs (one live, one after 12 s of silence), download a log; a built-in
// model job (the model's variables, its output tar), Open Editor on a notebook, Dockerfile and
// Tar image uploads, the admin's all-workspace Datasets; an outsider sees none of it. Elements are
// found by role, label and the manual's button names; each page is written to docs/screenshots/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $, type Server } from "bun";
import { type Browser, chromium, type Page } from "playwright-core";
import { createHandler } from "../../src/app";
import { nodeExecutor } from "../../src/nodes/service";
import { BUSYBOX_IMAGE, notebookImage, pythonImage, requireEnv } from "../helpers/env";
import { multipart } from "../helpers/multipart";
import { until } from "../helpers/poll";
import { ROOT_PASSWORD, startTestMaster, type TestMaster } from "../helpers/testMaster";
import { authorize, testWorkers } from "../helpers/workers";

type Locator = ReturnType<Page["locator"]>;

/** Waits until the element's text contains `want` (Playwright's own expect is not in playwright-core). */
async function seeText(l: Locator, want: string | RegExp, timeoutMs = 15_000): Promise<string> {
  const has = (t: string) => (typeof want === "string" ? t.includes(want) : want.test(t));
  return until(`text ${want}`, async () => ((await l.count()) ? ((await l.first().textContent()) ?? "") : ""), has, {
    timeoutMs,
  });
}
async function noText(l: Locator, unwanted: string): Promise<void> {
  await until(
    `no text ${unwanted}`,
    async () => (await l.first().textContent()) ?? "",
    (t) => !t.includes(unwanted),
  );
}
async function seeValue(l: Locator, want: string): Promise<void> {
  await until(
    `value ${want}`,
    () => l.inputValue(),
    (v) => v === want,
    { timeoutMs: 15_000 },
  );
}
async function seeCount(l: Locator, n: number): Promise<void> {
  await until(
    `count ${n}`,
    () => l.count(),
    (c) => c === n,
    { timeoutMs: 15_000 },
  );
}
const visible = (l: Locator, timeout = 15_000) => l.first().waitFor({ state: "visible", timeout });

const SHOTS = join(import.meta.dir, "..", "..", "docs", "screenshots");
const ALICE_PW = "alicePass1!";
const ROOT_NEW_PW = "rootPass2!";

describe("web UI in Chromium", () => {
  let m: TestMaster;
  let server: Server<unknown>;
  let browser: Browser;
  let page: Page;
  let url: string;

  const shot = async (name: string) => {
    await page.waitForTimeout(150); // let the last poll paint
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const menu = (name: string) => page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name });
  const dialog = (name: string | RegExp) => page.getByRole("dialog", { name });
  const row = (table: string, text: string) =>
    page.getByRole("table", { name: table }).getByRole("row").filter({ hasText: text });

  const login = async (userId: string, password: string) => {
    await page.goto(`${url}login`);
    await page.getByLabel("User ID").fill(userId);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
  };
  const aliceToken = async (): Promise<string> =>
    (await m.json("POST", "/api/auth/login", { body: { userId: "alice", password: ALICE_PW } })).body.token;
  const logout = async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
  };

  beforeAll(async () => {
    const executablePath = Bun.which("chromium") ?? Bun.which("chromium-browser");
    if (!executablePath) throw new Error("chromium is not installed: run the suite with `bun run test`");
    mkdirSync(SHOTS, { recursive: true });
    m = await startTestMaster("sqlite", { schedulerBackstopSeconds: 0.2 }, { scheduler: true });
    // New accounts must change their password first; these two do it over the API (root does it in the UI).
    for (const [id, pw] of [
      ["alice", ALICE_PW],
      ["eve", "evePass1!!"],
    ] as const) {
      const token = await m.userWithToken(id, "user", "firstPass1!");
      expect(
        (await m.json("POST", "/api/me/password", { token, body: { current: "firstPass1!", next: pw } })).status,
      ).toBe(204);
    }
    // Making them cleared root's own first-login flag: root's password set by an admin (itself)
    // flags it again, as a fresh install has it (the UI walk below changes it).
    const reset = await m.json("PATCH", "/api/users/root", {
      token: await m.rootToken(),
      body: { password: ROOT_PASSWORD },
    });
    expect(reset.body.mustChangePassword).toBe(true);
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createHandler(m.deps) });
    url = `http://127.0.0.1:${server.port}/`;
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-background-networking"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    server?.stop(true);
    await m?.close();
  });

  test("the app is served for deep links; unknown API paths stay JSON 404s", async () => {
    const deep = await fetch(`${url}workspaces/x/trainings/y`);
    expect(deep.status).toBe(200);
    const html = await deep.text();
    expect(html).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${url}${script?.slice(1)}`, { headers: { "accept-encoding": "gzip" } });
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    const api = await fetch(`${url}api/nope`);
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe("not_found");
  });

  test("a wrong password shows the API's message and no session", async () => {
    await login("root", "wrongPass1!");
    await seeText(page.getByRole("alert"), "wrong");
    expect(await page.getByRole("navigation", { name: "Main menu" }).count()).toBe(0);
    expect(await page.getByLabel("Two-factor code").count()).toBe(1);
    await shot("login");
  });

  test("admin: the first login asks for a new password; then the whole menu", async () => {
    await login("root", ROOT_PASSWORD);
    await visible(page.getByText("Please choose a new password before you go on."));
    expect(new URL(page.url()).pathname).toBe("/account");
    // Until then the API answers nothing else (403 password_change_required); the page asks for
    // nothing else either, so it shows no error.
    await page.waitForTimeout(500);
    expect(
      await page
        .getByRole("alert")
        .filter({ hasText: /password_change_required|change your password/ })
        .count(),
    ).toBe(0);
    await page.getByLabel("Current password").fill(ROOT_PASSWORD);
    await page.getByLabel("New password", { exact: true }).fill(ROOT_NEW_PW);
    await page.getByLabel("New password again").fill(ROOT_NEW_PW);
    await page.getByRole("button", { name: "Change password" }).click();
    await visible(page.getByText("Password changed."));
    await menu("Dashboard").click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    for (const name of [
      "Dashboard",
      "Workspaces",
      "Trainings",
      "Deployments",
      "Docker Images",
      "Datasets",
      "Nodes",
      "Users",
    ])
      expect(await menu(name).count()).toBe(1);
  });

  test("admin: Add Node with Get Info, the master key and its command, then Connect", async () => {
    await menu("Nodes").click();
    expect(new URL(page.url()).pathname).toBe("/nodes");
    await seeText(page.getByRole("table", { name: "Nodes" }), "No nodes yet");

    const w = testWorkers()[0];
    if (!w) throw new Error("no worker stand-in");
    await page.getByRole("button", { name: "Add Node" }).click();
    const add = dialog("Add Node");
    const key = m.deps.masterKey.publicKey.trim();
    await seeValue(add.getByLabel("Master public key"), key);
    const command = await add.getByLabel("Authorize command").inputValue();
    expect(command).toContain(key);
    expect(command).toContain("authorized_keys");
    // What the admin does on the worker: the command's effect.
    authorize(w, key);
    await add.getByLabel("IP", { exact: true }).fill(w.ip);
    await add.getByLabel("SSH port").fill(String(w.port));
    await add.getByRole("button", { name: "Get Info" }).click();
    await seeText(add.getByRole("status", { name: "Node info" }), "CPUs", 20_000);
    const control = add.getByLabel("Ethernet - 1Gbps");
    expect(await control.inputValue()).not.toBe("");
    await add.getByLabel("Node Name").fill("web-w1");
    await shot("nodes-add");
    await add.getByRole("button", { name: "Add", exact: true }).click();
    await seeCount(add, 0);
    await seeText(row("Nodes", "web-w1"), "Detached");

    await page.getByRole("switch", { name: "Connection of web-w1" }).click();
    await seeText(row("Nodes", "web-w1"), "Attached", 30_000);
    expect(await page.getByRole("switch", { name: "Connection of web-w1" }).isChecked()).toBe(true);
    expect(await row("Nodes", "web-w1").textContent()).toMatch(/0\/\d+ GPUs?/);
    await shot("nodes");
  });

  test("admin: Add User checks the rules as you type and shows the server's message by its field", async () => {
    await menu("Users").click();
    await seeText(row("Users", "alice"), "User");
    await page.getByRole("button", { name: "Add User" }).click();
    const add = dialog("Add User");
    await add.getByLabel("User ID").fill("Bob");
    await visible(add.getByText("may contain only lowercase letters"));
    await add.getByLabel("User ID").fill("alice");
    await add.getByLabel("Password", { exact: true }).fill("short");
    await visible(add.getByText("password must be 8–20 characters long"));
    await add.getByLabel("Password", { exact: true }).fill("bobPass1!");
    await add.getByLabel("Password again").fill("bobPass2!");
    await visible(add.getByText("the two passwords differ"));
    await add.getByLabel("Password again").fill("bobPass1!");
    await add.getByLabel("User Type").selectOption("owner");
    await add.getByRole("button", { name: "Add", exact: true }).click();
    // alice exists: the server's 409 comes back on the User ID field.
    await seeText(add.getByRole("alert"), "alice");
    await add.getByLabel("User ID").fill("bob");
    await shot("users-add");
    await add.getByRole("button", { name: "Add", exact: true }).click();
    await seeCount(add, 0);
    await seeText(row("Users", "bob"), "Training Owner");

    await page.getByLabel("Search").fill("bo");
    await seeCount(page.getByRole("table", { name: "Users" }).getByRole("row"), 2); // head + bob
    await page.getByRole("button", { name: "Deactivate bob" }).click();
    await dialog("Are you sure?").getByRole("button", { name: "Deactivate" }).click();
    await seeText(row("Users", "bob"), "deactivated");
    expect((await m.json("POST", "/api/auth/login", { body: { userId: "bob", password: "bobPass1!" } })).status).toBe(
      401,
    );
    await page.getByRole("button", { name: "Reactivate bob" }).click();
    await noText(row("Users", "bob"), "deactivated");
    await page.getByLabel("Search").fill("");
    await shot("users");
  });

  test("admin: Upload Docker Image by Pull; it becomes Ready with its size", async () => {
    await menu("Docker Images").click();
    await page.getByRole("button", { name: "Upload Docker Image" }).click();
    const up = dialog("Upload Docker Image");
    await up.getByLabel("Docker Image Name").fill("busybox");
    await up.getByLabel("Pull").check();
    await up.getByLabel("Image URL").fill(requireEnv("HANGAR_TEST_REGISTRY_IMAGE", "test/harness/extras.sh"));
    await up.getByLabel("Global").check();
    await up.getByRole("button", { name: "Upload" }).click();
    await seeCount(up, 0);
    await seeText(row("Docker Images", "busybox"), "Ready", 60_000);
    await seeText(row("Docker Images", "busybox"), "Pull");
    // Dockerfile builds (offline: FROM the harness's local images), for the built-in model
    // training and the notebook below.
    for (const [name, from] of [
      ["pyimg", pythonImage()],
      ["nbimg", notebookImage()],
    ] as const) {
      await page.getByRole("button", { name: "Upload Docker Image" }).click();
      const b = dialog("Upload Docker Image");
      await b.getByLabel("Docker Image Name").fill(name);
      await b.getByLabel("Dockerfile build").check();
      await b.getByLabel("Dockerfile", { exact: true }).fill(`FROM ${from}\nLABEL hangar.web-test=${name}\n`);
      await b.getByLabel("Global").check();
      if (name === "pyimg") await shot("docker-images-build");
      await b.getByRole("button", { name: "Upload" }).click();
      await seeCount(b, 0);
      await seeText(row("Docker Images", name), "Ready", 120_000);
      await seeText(row("Docker Images", name), "Dockerfile build");
    }
    // Tar: a `docker save` file sent from the browser with its progress bar.
    const tarDir = mkdtempSync(join(tmpdir(), "hangar-web-tar-"));
    try {
      const tar = join(tarDir, "bb.tar");
      await $`docker save -o ${tar} ${BUSYBOX_IMAGE}`;
      await page.getByRole("button", { name: "Upload Docker Image" }).click();
      const t = dialog("Upload Docker Image");
      await t.getByLabel("Docker Image Name").fill("bbtar");
      await t.getByLabel("Tar", { exact: true }).check();
      await t.getByLabel("Image tar (docker save)").setInputFiles(tar);
      await t.getByLabel("Global").check();
      await t.getByRole("button", { name: "Upload" }).click();
      await seeCount(t, 0);
      await seeText(row("Docker Images", "bbtar"), "Ready", 120_000);
      await seeText(row("Docker Images", "bbtar"), "Tar");
    } finally {
      rmSync(tarDir, { recursive: true, force: true });
    }
    await shot("docker-images");
  });

  test("admin: Create Workspace with GPUs and members; a clash (409) is shown in the dialog", async () => {
    await menu("Workspaces").click();
    await seeText(page.getByRole("table", { name: "Workspaces" }), "No workspaces yet");
    await page.getByRole("button", { name: "Create Workspace" }).click();
    let d = dialog("Create Workspace");
    await d.getByLabel("Workspace Name").fill("web-ws");
    await d.getByLabel("Description").fill("Workspace for the web test");
    await d.getByLabel("Start").fill("2020-01-01T00:00");
    await d.getByLabel("GPUs for Training").fill("1");
    await d.getByLabel("Manager").selectOption("root");
    await d.getByLabel("alice").check();
    await shot("workspaces-create");
    await d.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "web-ws's details" }).waitFor();
    await visible(page.getByText("Workspace for the web test"));
    await shot("workspace");

    await menu("Workspaces").click();
    await page.getByRole("button", { name: "Create Workspace" }).click();
    d = dialog("Create Workspace");
    await d.getByLabel("Workspace Name").fill("too-big");
    await d.getByLabel("Start").fill("2020-01-01T00:00");
    await d.getByLabel("GPUs for Training").fill("999");
    await d.getByLabel("Manager").selectOption("root");
    await d.getByRole("button", { name: "Create" }).click();
    await seeText(d.getByRole("alert"), /GPU/);
    await d.getByRole("button", { name: "Cancel" }).click();
    await seeText(row("Workspaces", "web-ws"), "Active");
    await seeText(row("Workspaces", "web-ws"), "root");
    expect(await row("Workspaces", "too-big").count()).toBe(0);
    await shot("workspaces");
    await menu("Dashboard").click();
    await visible(page.getByText("1/1 attached"));
    await visible(page.getByText("Storage used"));
    await visible(page.getByText("none in error"));
    await shot("dashboard");
    await logout();
  });

  test("researcher: Create Dataset with several files, a forbidden name refused with its reason", async () => {
    await login("alice", ALICE_PW);
    await page.getByRole("heading", { name: "web-ws's details" }).waitFor();
    expect(await menu("Nodes").count()).toBe(0); // admins only
    expect(await menu("Users").count()).toBe(0);
    await seeValue(page.getByLabel("Workspace", { exact: true }), "web-ws");
    await menu("Datasets").click();
    expect(new URL(page.url()).pathname).toBe("/workspaces/web-ws/datasets");
    await page.getByRole("button", { name: "Create Dataset" }).click();
    const d = dialog("Create Dataset");
    await d.getByLabel("Dataset Name").fill("digits");
    await d.getByLabel("Choose files").setInputFiles([
      { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("alpha\n") },
      { name: "b.csv", mimeType: "text/csv", buffer: Buffer.from("x,y\n1,2\n") },
      { name: "bad name.txt", mimeType: "text/plain", buffer: Buffer.from("nope") },
    ]);
    await visible(d.getByText("3 files chosen"));
    await d.getByRole("button", { name: "Create" }).click();
    await seeText(row("Uploads", "bad name.txt"), "no spaces");
    await seeText(row("Uploads", "a.txt"), "Done");
    await seeText(row("Uploads", "b.csv"), "Done");
    await shot("datasets-create");
    await d.getByRole("button", { name: "Open digits" }).click();
    await seeCount(page.getByRole("table", { name: "Files" }).getByRole("row"), 3);
    await seeText(row("Files", "b.csv"), "alice");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download b.csv" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("b.csv");
    expect(readFileSync((await file.path()) as string, "utf8")).toBe("x,y\n1,2\n");
    await shot("dataset");
    await menu("Datasets").click();
    await seeText(row("Datasets", "digits"), "2 files");
    await shot("datasets");
  });

  test("researcher: Create Training, then Create Job with two parameter sets; logs live, View, Download", async () => {
    await menu("Trainings").click();
    await seeText(page.getByRole("table", { name: "Trainings" }), "No trainings yet");
    await page.getByRole("button", { name: "Create Training" }).click();
    const c = dialog("Create Training");
    await c.getByLabel("Advanced").check();
    await c.getByLabel("Training Name").fill("tr1");
    await c.getByLabel("GPUs").fill("1");
    await c.getByLabel("Docker Image").selectOption({ label: "busybox" });
    // The list behind the dialog polls every 3 s: focus stays where the person put it.
    await c.getByLabel("GPUs").focus();
    await Bun.sleep(3500);
    expect(await c.getByLabel("GPUs").evaluate((el) => el === document.activeElement)).toBe(true);
    await shot("trainings-create");
    await c.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "tr1", exact: true }).waitFor();

    // The code folder: upload the run code the job will pick.
    await page.getByLabel("Upload Code").setInputFiles([
      {
        name: "run.sh",
        mimeType: "text/x-sh",
        buffer: Buffer.from('for i in 1 2 3; do echo "step $i p=$HANGAR_PARAM_P"; sleep 0.3; done\n'),
      },
    ]);
    await visible(row("Code files", "run.sh"));

    await page.getByRole("button", { name: "Create Job" }).click();
    const j = dialog("Create Job");
    // The browser's rule (the server's own function) stops a bad name before sending.
    await j.getByLabel("Job Name").fill("Bad Name!");
    await visible(j.getByText("may contain only lowercase letters"));
    // A GPU count over the workspace's share comes back from the API on its field.
    await j.getByLabel("Job Name").fill("hello");
    await j.getByLabel("Run Code").selectOption("run.sh");
    await j.getByLabel("GPUs").fill("5");
    await j.getByRole("button", { name: "Create" }).click();
    await seeText(j.getByRole("alert"), "gpus");
    await j.getByLabel("GPUs").fill("");
    await j.getByLabel("Parameter set 1").fill("p=one");
    await j.getByRole("button", { name: "Add", exact: true }).click();
    await j.getByLabel("Parameter set 2").fill("p=two");
    await shot("jobs-create");
    await j.getByRole("button", { name: "Create" }).click();

    // The first job's log page follows the log live.
    await page.getByRole("heading", { name: "View Job Log: hello-1" }).waitFor();
    const log = page.getByRole("log", { name: "Job log" });
    await seeText(log, "step 3 p=one", 60_000);
    await seeText(page.getByRole("status", { name: "Job status" }), "Succeeded", 30_000);
    const text = (await log.textContent()) ?? "";
    expect(text.indexOf("step 1")).toBeLessThan(text.indexOf("step 2"));
    expect(text.indexOf("step 2")).toBeLessThan(text.indexOf("step 3"));
    await shot("job-log");
    // Reload keeps the page (a real URL).
    await page.reload();
    await seeText(page.getByRole("log", { name: "Job log" }), "step 3 p=one");

    await page.getByRole("link", { name: "tr1" }).click();
    await seeText(row("Jobs", "hello-2"), "Succeeded", 60_000);
    await seeText(row("Jobs", "hello-1"), "p=one");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download log of hello-2" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("hello-2.log");
    expect(readFileSync((await file.path()) as string, "utf8")).toContain("step 3 p=two");
    await shot("training");
    await page.getByRole("button", { name: "View log of hello-2" }).click();
    await seeText(page.getByRole("log", { name: "Job log" }), "step 1 p=two");
    await page.goBack();
    await visible(page.getByRole("heading", { name: "tr1", exact: true }));

    // A job quiet for longer than the server's 10 s idle timeout: the page follows on and
    // shows its late line (the server's keepalive comments hold the stream open).
    await page.getByRole("button", { name: "Create Job" }).click();
    const q = dialog("Create Job");
    await q.getByLabel("Job Name").fill("quiet");
    await q.getByLabel("Command").fill("sleep 12; echo late line");
    await q.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "View Job Log: quiet" }).waitFor();
    // 30 minutes pass on the master's clock while it runs: Workspace Home's chart shows them.
    await until(
      "quiet runs",
      async () => (await page.getByRole("status", { name: "Job status" }).textContent()) ?? "",
      (t) => t.includes("Running"),
      { timeoutMs: 60_000 },
    );
    m.clock.advance(30 * 60_000);
    await seeText(page.getByRole("log", { name: "Job log" }), "late line", 60_000);
    await seeText(page.getByRole("status", { name: "Job status" }), "Succeeded", 30_000);
    await page.getByRole("link", { name: "tr1" }).click();
    await menu("Trainings").click();
    await seeText(row("Trainings", "tr1"), "Advanced");
    await shot("trainings");
    await menu("Deployments").click();
    await seeText(page.getByRole("table", { name: "Deployments" }), "No deployments yet");
    await page.getByRole("button", { name: "Create Deployment" }).click();
    const create = dialog("Create Deployment");
    await seeText(create.getByLabel("Training"), "tr1");
    await create.getByLabel("Deployment Name").fill("serve");
    await create.getByLabel("Training").selectOption("tr1");
    await create.getByLabel("Command").fill("python3 -m http.server $PORT");
    await create.getByLabel("CPU Cores").fill("1.5");
    await create.getByLabel("Memory (MiB)").fill("768");
    await shot("deployments-create");
    // The dialog sends the CPU and memory limits: the request is caught here and answered with an
    // error on `cpus` in the API's shape (so no deployment is made), which shows at that field.
    const deploymentsApi = "**/api/workspaces/*/deployments";
    const sent = new Promise<Record<string, unknown>>((resolve) => {
      void page.route(deploymentsApi, async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        resolve(route.request().postDataJSON());
        await route.fulfill({
          status: 400,
          contentType: "application/json",
          body: JSON.stringify({ error: { code: "bad_request", message: "caught by the test", field: "cpus" } }),
        });
      });
    });
    await create.getByRole("button", { name: "Create" }).click();
    expect(await sent).toMatchObject({ name: "serve", training: "tr1", gpus: 1, cpus: 1.5, memoryMiB: 768 });
    await seeText(create, "caught by the test");
    await page.unroute(deploymentsApi);
    await create.getByRole("button", { name: "Cancel" }).click();
    await menu("Dashboard").click();
    await seeText(page.getByRole("table", { name: "Recent tasks" }), "hello-2");
    const chart = page.getByRole("figure", { name: "GPU usage chart" });
    await visible(chart.locator("canvas"));
    await seeText(chart, /peak [1-9]/);
    await shot("workspace-home");
  });

  test("researcher: a built-in model training; Create Job asks for the model's variables, not a command", async () => {
    // The dataset in the model's layout (uploads in the browser are tested above).
    const token = await aliceToken();
    expect((await m.json("POST", "/api/workspaces/web-ws/datasets", { token, body: { name: "tab" } })).status).toBe(
      201,
    );
    const csv = readFileSync(
      join(import.meta.dir, "..", "..", "src", "builtin", "testdata", "tabular-regression", "data.csv"),
    );
    const parts = multipart([{ name: "data.csv", data: new Uint8Array(csv) }]);
    const up = await m.request("POST", "/api/workspaces/web-ws/datasets/tab/files", {
      token,
      raw: parts.body,
      headers: { "content-type": parts.contentType },
    });
    expect(up.status).toBe(201);

    await menu("Trainings").click();
    await page.getByRole("button", { name: "Create Training" }).click();
    const c = dialog("Create Training");
    await c.getByLabel("Built-in Model", { exact: true }).check();
    await c.getByLabel("Training Name").fill("bi1");
    await c.getByLabel("GPUs").fill("1");
    await c.getByRole("combobox", { name: "Built-in Model" }).selectOption("tabular-regression");
    await visible(c.getByText("data.csv: a header row"));
    await c.getByLabel("Docker Image").selectOption({ label: "pyimg" });
    await shot("trainings-create-builtin");
    await c.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "bi1", exact: true }).waitFor();

    await page.getByRole("button", { name: "Create Job" }).click();
    const j = dialog("Create Job");
    await j.getByLabel("Job Name").fill("fit");
    await j.getByLabel("Dataset").selectOption("tab");
    // The model's variables with their defaults as placeholders; no command, no run code.
    expect(await j.getByLabel("Command").count()).toBe(0);
    expect(await j.getByLabel("Run Code").count()).toBe(0);
    expect(await j.getByLabel("lr", { exact: true }).getAttribute("placeholder")).toBe("0.01");
    await j.getByLabel("epochs").fill("5");
    await j.getByLabel("Unified Memory").check();
    await shot("jobs-create-builtin");
    await j.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "View Job Log: fit" }).waitFor();
    const log = page.getByRole("log", { name: "Job log" });
    await seeText(log, /rmse [\d.]+/, 90_000);
    await seeText(page.getByRole("status", { name: "Job status" }), "Succeeded", 30_000);
    const text = (await log.textContent()) ?? "";
    expect(text).toContain("epoch 5 loss");
    expect(text).not.toContain("epoch 6 loss");
    // Its /output as a tar, from the log page.
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download Output" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("fit-output.tar");
    const listing = Bun.spawnSync(["tar", "-tf", (await file.path()) as string]).stdout.toString();
    expect(listing).toContain("fit/");
    expect(listing.split("\n").filter((l) => l.startsWith("fit/") && !l.endsWith("/")).length).toBeGreaterThan(0);
  });

  test("researcher: Open Editor starts the notebook and opens Jupyter in a new tab, no token in its URL", async () => {
    await menu("Trainings").click();
    await page.getByRole("button", { name: "Create Training" }).click();
    const c = dialog("Create Training");
    await c.getByLabel("Jupyter Notebook").check();
    await c.getByLabel("Training Name").fill("nb1");
    await c.getByLabel("GPUs").fill("0.5");
    await c.getByLabel("Docker Image").selectOption({ label: "nbimg" });
    await c.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "nb1", exact: true }).waitFor();
    const popup = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Open Editor" }).click();
    const tab = await popup;
    // The tab waits on the master's Starting page, then Jupyter answers at the notebook's path.
    await until(
      "Jupyter in the new tab",
      async () => {
        await tab.waitForLoadState("domcontentloaded").catch(() => {});
        // The title, or what the tab shows instead (an error body says why).
        const title = await tab.title().catch(() => "");
        return title || `${tab.url()} ${((await tab.textContent("body").catch(() => "")) ?? "").slice(0, 200)}`;
      },
      // Jupyter Notebook's file browser ("Home Page - Select or create a notebook").
      (t) => /Home Page|Jupyter/.test(t),
      { timeoutMs: 120_000 },
    );
    const at = new URL(tab.url());
    expect(at.pathname.startsWith("/notebooks/web-ws/nb1/")).toBe(true);
    expect(at.search).not.toContain("hangar_token");
    // On an origin of its own: the same host, a port other than the web UI's.
    expect(at.hostname).toBe(new URL(url).hostname);
    expect(at.port).not.toBe(new URL(url).port);
    // The tab's credential is an HttpOnly cookie on the notebook's path: its pages cannot read it.
    const cookies = await tab.context().cookies(tab.url());
    const nb = cookies.find((k) => k.name === "hangar_nb");
    expect(nb).toMatchObject({ path: "/notebooks/web-ws/nb1/", httpOnly: true, sameSite: "Lax" });
    // Jupyter's page cannot reach the web UI's API with the user's session (another origin, no cookie).
    const fromNotebook = await tab.evaluate(async (api) => {
      const res = await fetch(`${api}api/me`, { credentials: "include" }).catch((e) => String(e));
      return typeof res === "string" ? res : res.status;
    }, url);
    expect(fromNotebook).not.toBe(200);
    expect(await tab.evaluate(() => document.cookie)).not.toContain("hangar");
    expect(await tab.evaluate(() => sessionStorage.getItem("hangar.token"))).toBeNull();
    await tab.setViewportSize({ width: 1280, height: 800 });
    await tab.waitForTimeout(1500);
    await tab.screenshot({ path: join(SHOTS, "notebook.png") });
    await tab.close();
    await page.bringToFront();
    await visible(page.getByRole("button", { name: "Stop" }), 30_000);
    await page.getByRole("button", { name: "Stop" }).click();
    await until(
      "notebook stopped",
      async () =>
        (await m.json("GET", "/api/workspaces/web-ws/trainings/nb1", { token: await aliceToken() })).body.status,
      (st) => st === "idle",
      { timeoutMs: 30_000 },
    );
    // Its container goes too (before the master of this test closes).
    const detail = (await m.json("GET", "/api/workspaces/web-ws", { token: await aliceToken() })).body;
    const nbJob = detail.recentTasks.find((t: { kind: string }) => t.kind === "notebook");
    const job = (await m.json("GET", `/api/jobs/${nbJob.id}`, { token: await aliceToken() })).body;
    const exec = await nodeExecutor(m.deps, job.node);
    await until(
      "notebook container removed",
      async () => (await exec.list({ "hangar.job": nbJob.id })).length,
      (n) => n === 0,
      { timeoutMs: 30_000 },
    );
  });

  test("account: the password change form checks the rules; an API key is made and listed", async () => {
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByLabel("New password", { exact: true }).fill("abc");
    await visible(page.getByText("password must be 8–20 characters long"));
    await page.getByLabel("New password", { exact: true }).fill("");
    await page.getByRole("button", { name: "Create API key" }).click();
    await visible(page.getByText("(shown once)"));
    await seeCount(page.getByRole("table", { name: "API keys" }).getByRole("row"), 2);
    await page.getByRole("button", { name: "Enable two-factor login" }).click();
    await visible(page.getByRole("img", { name: "QR code for the authenticator app" }));
    await shot("account");
    await logout();
  });

  test("an outsider sees no workspace, and a deep link to one says it is not found", async () => {
    await login("eve", "evePass1!!");
    await visible(page.getByRole("heading", { name: "No workspace yet" }));
    await page.goto(`${url}workspaces/web-ws/trainings`);
    await seeText(page.getByRole("alert"), "not found");
    expect(await page.getByRole("table", { name: "Trainings" }).count()).toBe(0);
    await page.goto(`${url}workspaces`);
    await seeText(page.getByRole("table", { name: "Workspaces" }), "You are in no workspace yet");
    await logout();
  });

  test("admin: Datasets lists every workspace's datasets", async () => {
    await login("root", ROOT_NEW_PW);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await menu("Datasets").click();
    expect(new URL(page.url()).pathname).toBe("/datasets");
    await seeText(row("Datasets", "digits"), "web-ws");
    await seeText(row("Datasets", "tab"), "1 file");
    await shot("datasets-admin");
    await logout();
  });
});
