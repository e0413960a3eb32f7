// <notebook's origin>/notebooks/<ws>/<tr>/… → the training's Jupyter server, HTTP and WebSocket.
// Only users who may see the training get through (others: 404); Jupyter's own token is added by
// the master. The notebook has an origin of its own (http/appOrigins); Hangar's cookies, the
// Referer and the Origin never reach Jupyter (http/forward).
import type { Server, ServerWebSocket } from "bun";
import type { Deps } from "../deps";
import { AppError, notFound } from "../domain/errors";
import { errorResponse, toErrorResponse } from "../http/errors";
import { forwardHttp, upstreamHeaders } from "../http/forward";
import { type AppRef, appCaller, appPrefix } from "../http/proxyCookie";
import { trainingFor } from "../trainings/service";
import { notebookTarget } from "./service";

export interface NotebookSocketData {
  kind: "notebook";
  target: string;
  token: string;
  jobId: string;
  upstream?: WebSocket;
  queue: (string | Uint8Array<ArrayBuffer>)[];
}

async function resolve(deps: Deps, request: Request, app: AppRef) {
  const url = new URL(request.url);
  const { principal } = await appCaller(deps, request, app);
  const ref = await trainingFor(deps, principal, app.ws, app.name);
  const target = await notebookTarget(deps, ref.row.id);
  if (!target) {
    // A browser tab opened by Open Editor may come before Jupyter answers: it waits here.
    if (wantsPage(request)) return { waiting: waitingPage(app.name) };
    throw notFound(`notebook ${app.name} is not running`);
  }
  return { target, path: `${url.pathname}${url.search}` };
}

/** Handles a request on a notebook's own origin (http/appOrigins): HTTP and WebSocket. */
export async function proxyNotebook(
  deps: Deps,
  request: Request,
  server: Server<unknown>,
  app: AppRef,
): Promise<Response> {
  try {
    const r = await resolve(deps, request, app);
    if (r.waiting) return r.waiting;
    deps.notebookUse.used(r.target.jobId, deps.clock.now().getTime());
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const data: NotebookSocketData = {
        kind: "notebook",
        target: `ws://${r.target.origin}${r.path}`,
        token: r.target.token,
        jobId: r.target.jobId,
        queue: [],
      };
      if (server.upgrade(request, { data })) return new Response(null, { status: 101 });
      return errorResponse(400, "bad_request", "WebSocket upgrade failed");
    }
    const headers = upstreamHeaders(request);
    headers.set("authorization", `token ${r.target.token}`);
    // Streamed on, never held whole: a large POST costs the master no memory.
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : request.body;
    return await forwardHttp(`http://${r.target.origin}${r.path}`, request, headers, body, {
      prefix: appPrefix(app),
      mounted: false,
    });
  } catch (err) {
    if (err instanceof AppError) return toErrorResponse("", err, deps.logger, "notebook proxy");
    // Running, but Jupyter does not listen yet (its port resets the connection): a browser tab waits.
    if (wantsPage(request)) return waitingPage(app.name);
    return errorResponse(502, "bad_gateway", `notebook unreachable: ${(err as Error).message}`);
  }
}

/** Bun WebSocket handlers that pipe a client socket to the notebook's. */
export function notebookSockets(deps: Deps) {
  return {
    open(ws: ServerWebSocket<NotebookSocketData>) {
      const d = ws.data;
      // Bun's WebSocket client takes headers: the master authenticates to Jupyter with its token.
      const up = new WebSocket(d.target, { headers: { authorization: `token ${d.token}` } } as unknown as string[]);
      up.binaryType = "arraybuffer";
      d.upstream = up;
      up.onopen = () => {
        for (const m of d.queue) up.send(m);
        d.queue = [];
      };
      up.onmessage = (ev) => {
        deps.notebookUse.used(d.jobId, deps.clock.now().getTime());
        ws.send(typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer));
      };
      up.onclose = () => ws.close();
      up.onerror = () => ws.close();
    },
    message(ws: ServerWebSocket<NotebookSocketData>, message: string | Buffer) {
      const d = ws.data;
      deps.notebookUse.used(d.jobId, deps.clock.now().getTime());
      const m = typeof message === "string" ? message : (new Uint8Array(message) as Uint8Array<ArrayBuffer>);
      if (d.upstream?.readyState === WebSocket.OPEN) d.upstream.send(m);
      else d.queue.push(m);
    },
    close(ws: ServerWebSocket<NotebookSocketData>) {
      ws.data.upstream?.close();
    },
  };
}

/** A browser's page load (not a script's call): it can be shown the Starting page. */
const wantsPage = (request: Request) =>
  request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html");

/** A page that reloads itself every 2 seconds until the notebook answers. */
function waitingPage(name: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Starting ${name}…</title></head><body style="font-family:system-ui,sans-serif;margin:3em">
<h1>Starting notebook ${name}…</h1><p>This page opens Jupyter as soon as it answers. If the notebook
was stopped, start it again from its training page.</p></body></html>`;
  return new Response(html, {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "retry-after": "2", "cache-control": "no-store" },
  });
}
