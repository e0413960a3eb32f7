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
      ({ principal, params, request }) =>
        notebookSession(deps, principal, params.ws, params.tr, request.headers.get("authorization")),
      {
        member: true,
        response: { 200: NotebookSession },
        detail: {
          tags,
          summary:
            "Open Editor: a one-use, 30-second ticket for the notebook's own origin; POSTed to loginUrl in a new tab it sets an HttpOnly cookie scoped to the notebook's path",
        },
      },
    );
