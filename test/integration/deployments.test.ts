// Deployments (docs/product.md#deployments) with the real Docker Engine, a worker stand-in and the python image the
// harness builds: a training job saves a model in /output; a deployment serves it from /model
// through the master at /deployments/<ws>/<name>/ on the workspace's deployment GPUs (their
// own pool: a second deployment waits while training jobs still run); members only; stop,
// start, delete; bad input is a 400 naming the field with nothing stored.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { $ } from "bun";
import { eq } from "drizzle-orm";
import { dayOf } from "../../src/accesslog/writer";
import { pythonImage } from "../helpers/env";
import { multipart } from "../helpers/multipart";
import { until as poll } from "../helpers/poll";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

// Reads the weight the training saved and serves y = w * x.
const SERVE_PY = `
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
w = json.load(open(os.path.join(os.environ["HANGAR_MODEL_DIR"], "model.json")))["w"]
class H(BaseHTTPRequestHandler):
    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/headers":
            return self.reply(200, {k.lower(): v for k, v in self.headers.items()})
        if self.path == "/cookies":
            body = b"{}"
            self.send_response(200)
            for c in ["hangar_token=planted; Path=/", "hangar_dp=planted", "wide=1; Domain=example.com",
                      "own=1; Path=/", "bare=1", "root=1; Path=/deployments/"]:
                self.send_header("set-cookie", c)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        self.reply(200, {"path": self.path, "w": w, "prefix": self.headers.get("x-forwarded-prefix")})
    def do_POST(self):
        x = json.loads(self.rfile.read(int(self.headers["content-length"])))["x"]
        self.reply(200, {"y": w * x})
    def log_message(self, *args):
        print("request", self.path, flush=True)
print("serving on", os.environ["PORT"], flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
`;

import { makeTraining, makeWorkspace } from "../helpers/factories";

for (const target of STORE_TARGETS)
  describe(`deployments on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let alice: string;
    let bob: string;

    const dep = async (name: string) =>
      (await m.json("GET", `/api/workspaces/dep-ws/deployments/${name}`, { token: alice })).body;
    const until = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean) =>
      poll(what, probe, ok, { timeoutMs: 40_000, everyMs: 150 });
    // Each deployment is served on a port of its own (its `url`), not on the API's.
    const origins = new Map<string, string>();
    const originOf = async (path: string) => {
      const name = path.split("/")[3] as string;
      if (!origins.has(name)) {
        const url = (await dep(name)).url;
        if (!url) throw new Error(`deployment ${name} has no url`);
        origins.set(name, new URL(url).origin);
      }
      return origins.get(name) as string;
    };
    const call = async (
      path: string,
      token: string | undefined,
      init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) =>
      fetch(`${await originOf(path)}${path}`, {
        method: init.method ?? "GET",
        redirect: "manual",
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body ? { "content-type": "application/json" } : {}),
          ...init.headers,
        },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
    /** Open's ticket login, as the web UI's form does it: the cookie it sets. */
    const ticketLogin = async (loginUrl: string, ticket: string) =>
      fetch(loginUrl, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ticket }).toString(),
      });

    beforeAll(async () => {
      m = await startTestMaster(target, { schedulerBackstopSeconds: 0.2 }, { scheduler: true });
      root = await m.rootToken();
      alice = await m.userWithToken("alice");
      bob = await m.userWithToken("bob");
      const w = testWorkers()[1] ?? testWorkers()[0];
      if (!w) throw new Error("no worker stand-in");
      await attachWorker(m, root, w, "dep-w");
      for (const [name, user] of [
        ["dep-ws", "alice"],
        ["other-ws", "bob"],
      ] as const) {
        await makeWorkspace(m, root, name, { deploymentGpus: 1, users: [user] });
      }
      await makeTraining(m, alice, "dep-ws", "lin", { image: pythonImage() });
      const code = multipart([{ name: "serve.py", data: SERVE_PY }]);
      const up = await m.request("POST", "/api/workspaces/dep-ws/trainings/lin/files", {
        token: alice,
        raw: code.body,
        headers: { "content-type": code.contentType },
      });
      expect(up.status).toBe(201);
      // The "training": saves the model the deployment serves.
      const fit = await m.json("POST", "/api/workspaces/dep-ws/trainings/lin/jobs", {
        token: alice,
        body: {
          name: "fit",
          command: `python3 -c 'import json; json.dump({"w": 3}, open("/output/model.json", "w"))'`,
        },
      });
      expect(fit.status).toBe(201);
      const id = fit.body.items[0].id;
      await until(
        "fit job",
        async () => (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body.status,
        (s) => s === "succeeded",
      );
    });
    afterAll(() => m.close());

    test("bad input is a 400 naming the field, and nothing is stored", async () => {
      const good = { name: "svc", training: "lin", command: "python3 /code/serve.py" };
      for (const [body, field] of [
        [{ ...good, name: "Bad Name!" }, "name"],
        [{ ...good, training: "nope" }, "training"],
        [{ ...good, gpus: 2 }, "gpus"],
        [{ ...good, gpus: 0.3 }, "gpus"],
        [{ ...good, port: 70000 }, "port"],
        [{ ...good, command: "  " }, "command"],
        [{ ...good, job: "no-such-job" }, "job"],
      ] as const) {
        const res = await m.json("POST", "/api/workspaces/dep-ws/deployments", { token: alice, body });
        expect(`${res.status} ${res.body.error?.field}`).toBe(`400 ${field}`);
      }
      expect((await m.json("GET", "/api/workspaces/dep-ws/deployments", { token: alice })).body.total).toBe(0);
      expect(await m.deps.store.db.select().from(m.deps.store.t.deployments)).toEqual([]);
    });

    test("a deployment serves the training's output through the master, to members only", async () => {
      const created = await m.json("POST", "/api/workspaces/dep-ws/deployments", {
        token: alice,
        body: { name: "svc", training: "lin", command: "python3 /code/serve.py", port: 8080 },
      });
      expect(created.status).toBe(201);
      expect(created.body.path).toBe("/deployments/dep-ws/svc/");
      // Its own origin: a port other than the API's, same prefix.
      const own = new URL(created.body.url);
      expect(own.pathname).toBe("/deployments/dep-ws/svc/");
      expect(own.port).not.toBe("");
      // The API's port does not serve it.
      const onApi = await m.request("GET", "/deployments/dep-ws/svc/hello", { token: alice });
      expect(onApi.status).toBe(404);
      expect((await onApi.json()).error.code).toBe("app_origin");
      expect(created.body.sourceJob).toBeString();
      const running = await until(
        "deployment svc",
        () => dep("svc"),
        (d) => d.status === "running",
      );
      expect(running.node).toBeString();
      // The server needs a moment after its container starts: 502 until it listens.
      const hello = await until(
        "GET through the proxy",
        () => call("/deployments/dep-ws/svc/hello?q=1", alice),
        (r) => r.status === 200,
      );
      expect(await hello.json()).toEqual({ path: "/hello?q=1", w: 3, prefix: "/deployments/dep-ws/svc" });
      const predict = await call("/deployments/dep-ws/svc/predict", alice, { method: "POST", body: { x: 7 } });
      expect(await predict.json()).toEqual({ y: 21 });
      // The port is published on the worker's loopback only: the LAN cannot reach it, the
      // master's proxy goes through the node's SSH connection.
      const [job] = await m.deps.store.db
        .select()
        .from(m.deps.store.t.jobs)
        .where(eq(m.deps.store.t.jobs.id, running.jobId));
      const a = job?.assignments[0];
      const hostPort = a?.hostPorts?.["8080"];
      expect(hostPort).toBeNumber();
      const bindings = JSON.parse(
        await $`docker inspect -f ${"{{json .HostConfig.PortBindings}}"} ${a?.containerId}`.text(),
      );
      expect(bindings["8080/tcp"][0].HostIp).toBe("127.0.0.1");
      const node = (await m.json("GET", "/api/nodes", { token: root })).body.items.find(
        (n: { id: string }) => n.id === a?.nodeId,
      );
      expect(node.ip).not.toBe("127.0.0.1");
      const direct = await fetch(`http://${node.ip}:${hostPort}/hello`).then(
        (r) => r.status,
        () => "refused",
      );
      expect(direct).toBe("refused");
      // The access log names the caller of proxied requests too.
      m.deps.accessLog.flush();
      const accessLog = readFileSync(join(m.config.dataDir, "log", `${dayOf(m.clock.now())}.log`), "utf8");
      expect(accessLog).toMatch(/\talice\t[^\t]*\tPOST\t\/deployments\/dep-ws\/svc\/predict\t200\t/);

      expect((await call("/deployments/dep-ws/svc/hello", undefined)).status).toBe(401);
      expect((await call("/deployments/dep-ws/svc/hello", bob)).status).toBe(404);
      // The browser's Open: a one-use ticket, POSTed to the deployment's origin, sets an HttpOnly
      // cookie for its path there, which alone lets a tab through.
      const session = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: alice });
      expect(session.status).toBe(200);
      expect(session.body.path).toBe("/deployments/dep-ws/svc/");
      expect(session.body.loginUrl).toBe(
        `${await originOf("/deployments/dep-ws/svc/")}/deployments/dep-ws/svc/_hangar_login`,
      );
      const login = await ticketLogin(session.body.loginUrl, session.body.ticket);
      expect(login.status).toBe(303);
      expect(login.headers.get("location")).toBe("/deployments/dep-ws/svc/");
      const setCookie = login.headers.get("set-cookie") ?? "";
      expect(setCookie).toStartWith("hangar_dp=");
      for (const attr of ["Path=/deployments/dep-ws/svc/", "HttpOnly", "SameSite=Lax"])
        expect(setCookie).toContain(attr);
      // Not the session token: the cookie opens this app and nothing of the API.
      const cookie = setCookie.split(";")[0] as string;
      expect(cookie).not.toContain(alice);
      expect((await call("/deployments/dep-ws/svc/hello", undefined, { headers: { cookie } })).status).toBe(200);
      expect((await m.request("GET", "/api/me", { headers: { cookie } })).status).toBe(401);
      // The ticket works once.
      expect((await ticketLogin(session.body.loginUrl, session.body.ticket)).status).toBe(401);
      // Bob may not see the deployment: no ticket.
      expect((await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: bob })).status).toBe(404);
      expect((await m.json("GET", "/api/workspaces/dep-ws/deployments/svc", { token: bob })).status).toBe(404);
      // Its log is a job log like any other.
      const log = await (await m.request("GET", `/api/jobs/${running.jobId}/log`, { token: alice })).text();
      expect(log).toContain("serving on 8080");
      const detail = (await m.json("GET", "/api/workspaces/dep-ws", { token: alice })).body;
      expect(detail.gpusInUse.deployment).toBe(1);
      expect(detail.counts.deployments).toBe(1);
      expect(detail.counts.trainings).toBe(1);
      expect(detail.recentTasks.map((t: { kind: string }) => t.kind)).toContain("deployment");
    });

    test("on its own origin: no Hangar cookie, Referer or token reaches the server, none of its cookies escapes", async () => {
      const origin = await originOf("/deployments/dep-ws/svc/");
      const session = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: alice });
      const login = await ticketLogin(session.body.loginUrl, session.body.ticket);
      const appCookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
      // What a browser sends from the app's own page: its cookie, one of the app's own, a stale
      // hangar_token, a Referer that carries a token, and the app's origin.
      const seen = await call("/deployments/dep-ws/svc/headers", undefined, {
        headers: {
          cookie: `${appCookie}; theme=dark; hangar_token=${alice}`,
          referer: `${origin}/deployments/dep-ws/svc/?hangar_token=${alice}`,
          origin,
        },
      });
      expect(seen.status).toBe(200);
      const headers = await seen.json();
      expect(headers.cookie).toBe("theme=dark");
      for (const h of ["referer", "origin", "authorization"]) expect(headers[h]).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain("hangar_");
      expect(headers["x-hangar-user"]).toBe("alice");
      // The same cookie from another page's origin (another app on this host) is refused.
      const foreign = await call("/deployments/dep-ws/svc/headers", undefined, {
        headers: { cookie: appCookie, origin: "http://127.0.0.1:1" },
      });
      expect(foreign.status).toBe(403);
      // A token in the URL is refused, even next to a good one in the header.
      for (const token of [alice, undefined]) {
        const res = await call(`/deployments/dep-ws/svc/hello?hangar_token=${alice}`, token);
        expect(res.status).toBe(401);
        expect((await res.json()).error.code).toBe("token_in_url");
      }
      // The server's cookies: hangar_* and Domain= ones dropped, the rest kept under its prefix.
      const cookies = await call("/deployments/dep-ws/svc/cookies", alice);
      expect(cookies.status).toBe(200);
      expect(cookies.headers.getSetCookie().sort()).toEqual([
        "bare=1",
        "own=1; Path=/deployments/dep-ws/svc/",
        "root=1; Path=/deployments/dep-ws/svc/deployments/",
      ]);
      // A ticket lives 30 seconds.
      const late = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: alice });
      m.clock.advance(31_000);
      expect((await ticketLogin(late.body.loginUrl, late.body.ticket)).status).toBe(401);
      // An API key may call the app with its header, but gets no ticket (a login session's).
      const key = await m.json("POST", "/api/me/keys", { token: alice });
      expect((await call("/deployments/dep-ws/svc/hello", key.body.secretKey)).status).toBe(200);
      expect(
        (await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: key.body.secretKey })).status,
      ).toBe(403);
      // Logout ends the app's cookie with the session.
      const bobless = await m.login("alice", "userPass1!");
      const s2 = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/session", { token: bobless });
      const c2 = ((await ticketLogin(s2.body.loginUrl, s2.body.ticket)).headers.get("set-cookie") ?? "").split(";")[0];
      expect(
        (await call("/deployments/dep-ws/svc/hello", undefined, { headers: { cookie: c2 as string } })).status,
      ).toBe(200);
      expect((await m.request("POST", "/api/auth/logout", { token: bobless })).status).toBe(204);
      expect(
        (await call("/deployments/dep-ws/svc/hello", undefined, { headers: { cookie: c2 as string } })).status,
      ).toBe(401);
    });

    test("deployment GPUs are their own pool: a second deployment waits, a training job still runs", async () => {
      const second = await m.json("POST", "/api/workspaces/dep-ws/deployments", {
        token: alice,
        body: { name: "svc2", training: "lin", command: "python3 /code/serve.py" },
      });
      expect(second.status).toBe(201);
      const waiting = await until(
        "deployment svc2",
        () => dep("svc2"),
        (d) => d.status === "pending" && /deployment GPUs/.test(d.statusReason ?? ""),
      );
      expect(waiting.statusReason).toContain("workspace dep-ws: 1 of 1 deployment GPUs in use");
      const job = await m.json("POST", "/api/workspaces/dep-ws/trainings/lin/jobs", {
        token: alice,
        body: { name: "more", command: "echo trained" },
      });
      const jobId = job.body.items[0].id;
      await until(
        "training job next to the deployment",
        async () => (await m.json("GET", `/api/jobs/${jobId}`, { token: alice })).body.status,
        (s) => s === "succeeded",
      );
      expect((await dep("svc2")).status).toBe("pending");
      const dup = await m.json("POST", "/api/workspaces/dep-ws/deployments", {
        token: alice,
        body: { name: "svc2", training: "lin", command: "true" },
      });
      expect(dup.status).toBe(409);
      // Stopping the first frees its GPU: the second starts.
      const stopped = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/stop", { token: alice });
      expect(stopped.body.status).toBe("stopped");
      await until(
        "deployment svc2 after svc stopped",
        () => dep("svc2"),
        (d) => d.status === "running",
      );
      const gone = await call("/deployments/dep-ws/svc/hello", alice);
      expect(gone.status).toBe(404);
      expect((await gone.json()).error.message).toContain("not running");
      expect((await m.json("DELETE", "/api/workspaces/dep-ws/deployments/svc2", { token: alice })).status).toBe(204);
      expect((await m.json("GET", "/api/workspaces/dep-ws/deployments/svc2", { token: alice })).status).toBe(404);
    });

    test("a stopped deployment starts again and serves; delete cancels its job", async () => {
      const again = await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/start", { token: alice });
      expect(again.status).toBe(200);
      expect((await m.json("POST", "/api/workspaces/dep-ws/deployments/svc/start", { token: alice })).status).toBe(409);
      await until(
        "deployment svc restarted",
        () => dep("svc"),
        (d) => d.status === "running",
      );
      const res = await until(
        "predict after restart",
        () => call("/deployments/dep-ws/svc/predict", alice, { method: "POST", body: { x: 2 } }),
        (r) => r.status === 200,
      );
      expect(await res.json()).toEqual({ y: 6 });
      const { jobId } = await dep("svc");
      expect((await m.json("DELETE", "/api/workspaces/dep-ws/deployments/svc", { token: alice })).status).toBe(204);
      expect((await m.json("GET", `/api/jobs/${jobId}`, { token: alice })).body.status).toBe("cancelled");
      expect((await m.json("GET", "/api/workspaces/dep-ws/deployments", { token: alice })).body.total).toBe(0);
      expect((await m.json("GET", "/api/workspaces/dep-ws", { token: alice })).body.gpusInUse.deployment).toBe(0);
    });
  });
