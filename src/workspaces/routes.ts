import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page, pageQuery } from "../http/schemas";
import { workspaceGpuUsage } from "./gpuUsage";
import {
  CreateWorkspaceBody,
  GpuUsageQuery,
  GpuUsageSeries,
  PatchWorkspaceBody,
  Workspace,
  WorkspaceDetail,
  WorkspacePage,
} from "./model";
import { memberPlugin } from "./plugin";
import { createWorkspace, getWorkspace, listWorkspaces, patchWorkspace } from "./service";

const tags = ["workspaces"];

export const workspaceRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .use(memberPlugin(deps))
    .get("/api/workspaces", ({ principal, query }) => listWorkspaces(deps, principal, page(query)), {
      auth: true,
      query: pageQuery,
      response: { 200: WorkspacePage },
      detail: { tags, summary: "Workspaces I can see (admins: all)" },
    })
    .post("/api/workspaces", async ({ body, status }) => status(201, await createWorkspace(deps, body)), {
      auth: "admin",
      body: CreateWorkspaceBody,
      response: { 201: Workspace },
      detail: { tags, summary: "Create a workspace and reserve its GPUs for its period (admin)" },
    })
    .get("/api/workspaces/:ws", ({ principal, params }) => getWorkspace(deps, principal, params.ws), {
      member: true,
      response: { 200: WorkspaceDetail },
      detail: { tags, summary: "Workspace detail: GPUs in use, counts, recent tasks" },
    })
    .patch("/api/workspaces/:ws", ({ principal, params, body }) => patchWorkspace(deps, principal, params.ws, body), {
      member: true,
      body: PatchWorkspaceBody,
      response: { 200: WorkspaceDetail },
      detail: { tags, summary: "Edit a workspace (admin: all; its manager: description and users)" },
    })
    .get("/api/workspaces/:ws/gpu-usage", ({ params, query }) => workspaceGpuUsage(deps, params.ws, query), {
      member: true,
      query: GpuUsageQuery,
      response: { 200: GpuUsageSeries },
      detail: {
        tags,
        summary: "GPUs in use over time (training, deployment), from the recorded job moves",
      },
    });
