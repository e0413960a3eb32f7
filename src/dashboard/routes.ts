import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { Dashboard } from "./model";
import { dashboard } from "./service";

const tags = ["operations"];

export const dashboardRoutes = (deps: Deps) =>
  new Elysia().use(authPlugin(deps)).get("/api/dashboard", () => dashboard(deps), {
    auth: "admin",
    response: { 200: Dashboard },
    detail: {
      tags,
      summary:
        "Counts for the admin Dashboard: nodes, GPUs in use, workspaces, jobs, storage used, last backup (admin)",
    },
  });
