// The web UI in headless Chromium (Debian's, driven by playwright-core) against a real master
// with the scheduler, a worker stand-in and the real Docker Engine: log in, the admin's nodes
// and users, then a researcher picks a workspace and a training, runs a job from the form and
// watches its log arrive; a bad job name shows the API's message.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { type Browser, chromium, type Page } from "playwright-core";
import { createHandler } from "../../src/app";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { ROOT_PASSWORD, startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const IMAGE = BUSYBOX_IMAGE;
const PERIOD = { startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z" };

describe("web UI in Chromium", () => {
  let m: TestMaster;
  let server: Server<unknown>;
  let browser: Browser;
  let page: Page;
  let url: string;

  const login = async (userId: string, password: string) => {
    await page.goto(url);
    await page.fill("#login-form input[name=userId]", userId);
    await page.fill("#login-form input[name=password]", password);
    await page.click("#login-form button[type=submit]");
  };

  beforeAll(async () => {
    const executablePath = Bun.which("chromium") ?? Bun.which("chromium-browser");
    if (!executablePath) throw new Error("chromium is not installed: run the suite with `bun run test`");
    m = await startTestMaster("sqlite", { schedulerBackstopSeconds: 0.2 }, { scheduler: true });
    const root = await m.rootToken();
    const w = testWorkers()[0];
    if (!w) throw new Error("no worker stand-in");
    await attachWorker(m, root, w, "web-w1");
    const alice = await m.userWithToken("alice", "user", "alicePass1!");
    expect(
      (
        await m.json("POST", "/api/workspaces", {
          token: root,
          body: { name: "web-ws", ...PERIOD, trainingGpus: 1, deploymentGpus: 0, manager: "root", users: ["alice"] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await m.json("POST", "/api/workspaces/web-ws/trainings", {
          token: alice,
          body: { name: "tr1", type: "advanced", gpus: 1, access: "private", image: IMAGE },
        })
      ).status,
    ).toBe(201);
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createHandler(m.deps) });
    url = `http://127.0.0.1:${server.port}/`;
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    server?.stop(true);
    await m?.close();
  });

  test("a wrong password shows the API's message and no session", async () => {
    await login("root", "wrongPass1!");
    await page.waitForFunction(() => document.querySelector("#login-error")?.textContent !== "");
    expect(await page.textContent("#login-error")).toContain("wrong");
    expect(await page.isVisible("#workspaces")).toBe(false);
  });

  test("root sees the nodes with their GPUs and the users", async () => {
    await login("root", ROOT_PASSWORD);
    await page.waitForSelector("#nodes tbody tr");
    expect(await page.textContent("#who")).toBe("root (admin)");
    const node = await page.textContent("#nodes tbody");
    expect(node).toContain("web-w1");
    expect(node).toContain("attached");
    await page.waitForSelector("#users tbody tr");
    expect(await page.textContent("#users tbody")).toContain("alice");
    await page.click("#logout");
    await page.waitForSelector("#login-form", { state: "visible" });
    expect(await page.isVisible("#nodes")).toBe(false);
  });

  test("alice runs a job from the form and its log arrives live, ending succeeded", async () => {
    await login("alice", "alicePass1!");
    await page.waitForSelector("#workspaces tbody tr");
    expect(await page.isVisible("#nodes")).toBe(false); // admins only
    await page.click("#workspaces tbody tr:has-text('web-ws')");
    await page.click("#trainings tbody tr:has-text('tr1')");
    await page.waitForSelector("#job-form", { state: "visible" });
    await page.fill("#job-form input[name=name]", "Bad Name!");
    await page.fill("#job-form input[name=command]", "true");
    await page.click("#job-form button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#job-error")?.textContent !== "");
    expect(await page.textContent("#job-error")).toContain("name");

    await page.fill("#job-form input[name=name]", "hello");
    await page.fill("#job-form input[name=command]", "sh -c 'for i in 1 2 3; do echo step $i; sleep 0.3; done'");
    await page.click("#job-form button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#log pre")?.textContent?.includes("step 3"), null, {
      timeout: 30_000,
    });
    await page.waitForFunction(() => document.querySelector("#log .job-status")?.textContent === "succeeded", null, {
      timeout: 30_000,
    });
    const log = (await page.textContent("#log pre")) ?? "";
    expect(log.indexOf("step 1")).toBeLessThan(log.indexOf("step 2"));
    expect(log.indexOf("step 2")).toBeLessThan(log.indexOf("step 3"));
    await page.waitForSelector("#jobs tbody tr:has-text('succeeded')");
    expect(await page.textContent("#jobs tbody")).toContain("hello");
  });
});
