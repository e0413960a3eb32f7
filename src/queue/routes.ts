// Admin routes over the whole cluster: the scheduler's queue and jobs across workspaces (the
// terminal dashboard's Queue and Jobs views).
import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page } from "../http/schemas";
import { JobPage } from "../jobs/model";
import { AllJobsQuery, QueuePage } from "./model";
import { allJobs, queueOrder } from "./service";

const tags = ["queue"];

export const queueRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .get("/api/queue", () => queueOrder(deps), {
      auth: "admin",
      response: { 200: QueuePage },
      detail: { tags, summary: "Pending jobs in the order the scheduler will consider them, with why each waits" },
    })
    .get("/api/jobs", ({ query }) => allJobs(deps, query.status, page(query)), {
      auth: "admin",
      query: AllJobsQuery,
      response: { 200: JobPage },
      detail: { tags, summary: "Jobs of every workspace, newest first (?status=running,pending)" },
    });
