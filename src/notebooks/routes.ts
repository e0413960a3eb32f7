import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { memberPlugin } from "../workspaces/plugin";
import { NotebookSession, NotebookState } from "./model";
import { notebookSession, startNotebook, stopNotebook } from "./service";

const base = "/api/workspaces/:ws/trainings/:tr";
const tags = ["trainings"];

export const notebookRoutes = (deps: Deps) =>
  new Elysia()
    .use(memberPlugin(deps))
    .post(`${base}/start`, ({ principal, params }) => startNotebook(deps, principal, params.ws, params.tr), {
      member: true,
      response: { 200: NotebookState },
      detail: { tags, summary: "Start a notebook training's Jupyter" },
    })
    .post(`${base}/stop`, ({ principal, params }) => stopNotebook(deps, principal, params.ws, params.tr), {
      member: true,
      response: { 200: NotebookState },
      detail: { tags, summary: "Stop a notebook training (frees its GPU)" },
    })
    .post(
      `${base}/notebook-session`,
      async ({ principal, params, request, set }) => {
        const { session, cookie } = await notebookSession(
          deps,
          principal,
          params.ws,
          params.tr,
          request.headers.get("authorization"),
        );
        set.headers["set-cookie"] = cookie;
        return session;
      },
      {
        member: true,
        response: { 200: NotebookSession },
        detail: {
          tags,
          summary:
            "Open Editor: set an HttpOnly cookie, scoped to /notebooks/<ws>/<training>/, that lets a new browser tab through the notebook proxy",
        },
      },
    );
