// Notebook trainings through a real master process: Jupyter from the harness's notebook image
// on a fractional GPU of a worker, reached through /notebooks/<ws>/<tr>/ (contents API and a
// cell run over the kernel WebSocket), 404 for users without access, and the idle timeout
// stopping it and freeing its GPU.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { notebookImage } from "../helpers/env";
import { OPEN_PERIOD } from "../helpers/factories";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";
import { STORE_TARGETS, storeEnv } from "../helpers/stores";
import { authorize, testWorkers } from "../helpers/workers";

describe.each(STORE_TARGETS)("notebook trainings on %s", (target) => {
  const dataDir = mkdtempSync(join(tmpdir(), "hangar-notebooks-"));
  let master: MasterProcess;
  let api: ReturnType<typeof client>;
  let alice: string;
  let bob: string;
  const base = "/notebooks/lab/nb/";
  const image = notebookImage;

  let store: Awaited<ReturnType<typeof storeEnv>> | undefined;

  beforeAll(async () => {
    store = await storeEnv(target);
    master = await spawnMaster({
      ...store.env,
      HANGAR_DATA_DIR: dataDir,
      HANGAR_ROOT_PASSWORD: "nbRoot1!x",
      HANGAR_SCHEDULER_BACKSTOP_SECONDS: "0.3",
      HANGAR_SSH_HOST: "127.0.0.1",
    });
    api = client(master.url);
    const root = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: "nbRoot1!x" })).body
      .token;
    for (const u of ["alice", "bob"])
      await api("POST", "/api/users", root, { userId: u, password: "userPass1!", role: "user" });
    alice = (await api("POST", "/api/auth/login", undefined, { userId: "alice", password: "userPass1!" })).body.token;
    bob = (await api("POST", "/api/auth/login", undefined, { userId: "bob", password: "userPass1!" })).body.token;
    const w = testWorkers()[0];
    if (!w) throw new Error("no worker");
    authorize(w, (await api("GET", "/api/nodes/master-key", root)).body.publicKey);
    const node = await api("POST", "/api/nodes", root, { ip: w.ip, sshPort: w.port, name: "nb-worker" });
    await api("POST", `/api/nodes/${node.body.id}/connect`, root);
    await api("POST", "/api/workspaces", root, {
      name: "lab",
      ...OPEN_PERIOD,
      trainingGpus: 1,
      deploymentGpus: 0,
      manager: "root",
      users: ["alice"],
    });
    const tr = await api("POST", "/api/workspaces/lab/trainings", alice, {
      name: "nb",
      type: "notebook",
      gpus: 0.5,
      access: "private",
      image: image(),
      idleTimeoutSeconds: 4,
    });
    expect(tr.status).toBe(201);
  });
  afterAll(async () => {
    await master?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await store?.drop();
  });

  let nbCookie = "";
  /** The notebook's own origin (a port of its own, not the API's). */
  let app = "";
  test("Open Editor: a one-use ticket on the notebook's own origin sets its cookie; a tab waits on a Starting page", async () => {
    const res = await api("POST", "/api/workspaces/lab/trainings/nb/notebook-session", alice);
    expect(res.status).toBe(200);
    expect(res.body.path).toBe(base);
    app = new URL(res.body.url).origin;
    expect(new URL(res.body.url).pathname).toBe(base);
    expect(new URL(app).port).not.toBe(new URL(master.url).port);
    expect(res.body.loginUrl).toBe(`${app}${base}_hangar_login`);
    // The API answers with no cookie at all; the notebook's origin sets it for the ticket.
    const login = await fetch(res.body.loginUrl, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `ticket=${encodeURIComponent(res.body.ticket)}`,
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe(base);
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toStartWith("hangar_nb=");
    for (const attr of [`Path=${base}`, "HttpOnly", "SameSite=Lax", "Max-Age="]) expect(setCookie).toContain(attr);
    nbCookie = setCookie.split(";")[0] as string;
    expect(nbCookie).not.toContain(alice);
    // Not started yet: a browser (Accept: text/html) with only the cookie gets the waiting page.
    const waiting = await fetch(`${app}${base}`, { headers: { cookie: nbCookie, accept: "text/html" } });
    expect(waiting.status).toBe(503);
    expect(await waiting.text()).toContain("Starting notebook nb");
    // Without the cookie: no way in; bob may not have a ticket; the API's port serves no notebook.
    expect((await fetch(`${app}${base}`, { headers: { accept: "text/html" } })).status).toBe(401);
    expect((await api("POST", "/api/workspaces/lab/trainings/nb/notebook-session", bob)).status).toBe(404);
    expect((await fetch(`${master.url}${base}`, { headers: { cookie: nbCookie } })).status).toBe(404);
    // Another path on the notebook's port is not served there.
    expect((await fetch(`${app}/api/me`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(404);
  });

  test("Jupyter through the master: contents API and a cell run over the kernel WebSocket", async () => {
    const started = await api("POST", "/api/workspaces/lab/trainings/nb/start", alice);
    expect(started.status).toBe(200);
    let ready = false;
    for (let i = 0; i < 150 && !ready; i++) {
      const d = (await api("GET", "/api/workspaces/lab/trainings/nb", alice)).body;
      if (d.notebookUrl) {
        expect(new URL(d.notebookUrl).origin).toBe(app);
        expect(new URL(d.notebookUrl).pathname).toBe(base);
        const status = await fetch(`${d.notebookUrl}api/status`, { headers: { authorization: `Bearer ${alice}` } });
        ready = status.status === 200;
      }
      if (!ready) await Bun.sleep(200);
    }
    expect(ready).toBe(true);
    expect((await api("GET", "/api/workspaces/lab", alice)).body.gpusInUse.training).toBe(0.5);

    // Open Editor's cookie alone lets the browser's tab through.
    const contents = await fetch(`${app}${base}api/contents`, { headers: { cookie: nbCookie } });
    expect(contents.status).toBe(200);
    expect((await contents.json()).type).toBe("directory");
    // A token in the URL is refused, even with the cookie.
    const inUrl = await fetch(`${app}${base}api/contents?hangar_token=${alice}`, { headers: { cookie: nbCookie } });
    expect(inUrl.status).toBe(401);
    // The cookie from another origin's page (another app on this host) is refused.
    const foreign = await fetch(`${app}${base}api/contents`, { headers: { cookie: nbCookie, origin: master.url } });
    expect(foreign.status).toBe(403);

    // Jupyter's token is in the container's environment, not in the job's command (shown to
    // everyone who sees the job) nor in the container's command line.
    const [job] = (await api("GET", "/api/workspaces/lab/trainings/nb/jobs", alice)).body.items;
    expect(job.command).toContain("jupyter notebook");
    expect(job.command).not.toContain("token");
    const containerId = (await $`docker ps -q --filter label=hangar.job=${job.id}`.text()).trim();
    const inspect = JSON.parse(await $`docker inspect ${containerId}`.text())[0];
    const tokenEnv = (inspect.Config.Env as string[]).find((e) => e.startsWith("JUPYTER_TOKEN="));
    expect(tokenEnv?.length).toBeGreaterThan("JUPYTER_TOKEN=".length + 20);
    const token = (tokenEnv as string).slice("JUPYTER_TOKEN=".length);
    expect(JSON.stringify(inspect.Config.Cmd)).not.toContain(token);
    expect(JSON.stringify(job)).not.toContain(token);
    // Jupyter does take that token (the master's proxy authenticates with it).
    expect((await fetch(`${app}${base}api/contents`, { headers: { cookie: nbCookie } })).status).toBe(200);

    const kernel = await fetch(`${app}${base}api/kernels`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(kernel.status).toBe(201);
    const kernelId = (await kernel.json()).id as string;
    const wsUrl = `${app.replace("http", "ws")}${base}api/kernels/${kernelId}/channels`;
    const output = await new Promise<string>((resolve, reject) => {
      // The cookie and the page's origin, as a browser tab sends them with the WebSocket.
      const ws = new WebSocket(wsUrl, { headers: { cookie: nbCookie, origin: app } } as unknown as string[]);
      const timer = setTimeout(() => reject(new Error("no output from the kernel")), 30_000);
      const msgId = crypto.randomUUID();
      ws.onopen = () =>
        ws.send(
          JSON.stringify({
            header: {
              msg_id: msgId,
              username: "alice",
              session: crypto.randomUUID(),
              msg_type: "execute_request",
              version: "5.3",
              date: new Date().toISOString(),
            },
            parent_header: {},
            metadata: {},
            content: {
              code: "print(6*7)",
              silent: false,
              store_history: true,
              user_expressions: {},
              allow_stdin: false,
              stop_on_error: true,
            },
            channel: "shell",
            buffers: [],
          }),
        );
      ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data));
        if (msg.msg_type === "stream" && msg.parent_header?.msg_id === msgId) {
          clearTimeout(timer);
          ws.close();
          resolve(msg.content.text);
        }
      };
      ws.onerror = () => reject(new Error("websocket error"));
    });
    expect(output).toBe("42\n");
  }, 90_000);

  test("without access to the training the notebook is a 404", async () => {
    const res = await fetch(`${app}${base}api/contents`, { headers: { authorization: `Bearer ${bob}` } });
    expect(res.status).toBe(404);
    const anonymous = await fetch(`${app}${base}api/contents`);
    expect(anonymous.status).toBe(401);
  });

  test("after the idle timeout the container is gone and its GPU is free", async () => {
    let detail: any;
    for (let i = 0; i < 100; i++) {
      detail = (await api("GET", "/api/workspaces/lab/trainings/nb", alice)).body;
      if (detail.status === "idle") break;
      await Bun.sleep(200);
    }
    expect(detail.status).toBe("idle");
    expect(detail.notebookUrl).toBeNull();
    expect((await api("GET", "/api/workspaces/lab", alice)).body.gpusInUse.training).toBe(0);
    const jobs = (await api("GET", "/api/workspaces/lab/trainings/nb/jobs", alice)).body.items;
    expect(jobs[0].status).toBe("cancelled");
    let left = "x";
    for (let i = 0; i < 30 && left; i++) {
      left = (await $`docker ps -aq --filter label=hangar.job=${jobs[0].id}`.text()).trim();
      if (left) await Bun.sleep(200);
    }
    expect(left).toBe("");
    // Not served any more: 404 while the app's port is still open, refused once the sweep closed it.
    const after = await fetch(`${app}${base}api/contents`, { headers: { authorization: `Bearer ${alice}` } }).then(
      (r) => r.status,
      (err: { code?: string }) => err.code,
    );
    expect<unknown[]>([404, "ECONNREFUSED"]).toContain(after);
  }, 60_000);
});
