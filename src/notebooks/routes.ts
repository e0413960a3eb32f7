import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { memberPlugin } from "../workspaces/plugin";
import { NotebookState } from "./model";
import { startNotebook, stopNotebook } from "./service";

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
    });
