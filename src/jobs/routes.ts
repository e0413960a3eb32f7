import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page, pageQuery, TextBody } from "../http/schemas";
import { memberPlugin } from "../workspaces/plugin";
import { CreateJobsBody, Job, JobEventPage, JobPage, LogQuery, TarBody } from "./model";
import { cancelJob, createJobs, followJobLog, getJob, jobEvents, jobLog, jobOutputTar, listJobs } from "./service";

const tags = ["jobs"];
const trainingJobs = "/api/workspaces/:ws/trainings/:tr/jobs";

export const jobRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .use(memberPlugin(deps))
    .post(
      trainingJobs,
      async ({ principal, params, body, status }) =>
        status(201, await createJobs(deps, principal, params.ws, params.tr, body)),
      {
        member: true,
        body: CreateJobsBody,
        response: { 201: JobPage },
        detail: { tags, summary: "Run jobs: one per parameter set, one after another" },
      },
    )
    .get(trainingJobs, ({ principal, params, query }) => listJobs(deps, principal, params.ws, params.tr, page(query)), {
      member: true,
      query: pageQuery,
      response: { 200: JobPage },
      detail: { tags, summary: "Jobs of a training" },
    })
    .get("/api/jobs/:id", ({ principal, params }) => getJob(deps, principal, params.id), {
      auth: true,
      response: { 200: Job },
      detail: { tags, summary: "One job: status, why it waits, where it runs" },
    })
    .get("/api/jobs/:id/events", ({ principal, params }) => jobEvents(deps, principal, params.id), {
      auth: true,
      response: { 200: JobEventPage },
      detail: { tags, summary: "The job's state transitions with time and reason" },
    })
    .post("/api/jobs/:id/cancel", ({ principal, params }) => cancelJob(deps, principal, params.id), {
      auth: true,
      response: { 200: Job },
      detail: { tags, summary: "Cancel a job: its containers stop, its GPUs are free at once" },
    })
    .get(
      "/api/jobs/:id/log",
      async ({ principal, params, query }) => {
        if (query.follow === "1" || query.follow === "true") return followJobLog(deps, principal, params.id);
        return new Response(await jobLog(deps, principal, params.id), {
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      },
      {
        auth: true,
        query: LogQuery,
        response: { 200: TextBody },
        detail: { tags, summary: "The whole log as text; ?follow=1 streams it (SSE) until the job ends" },
      },
    )
    .get("/api/jobs/:id/output.tar", ({ principal, params }) => jobOutputTar(deps, principal, params.id), {
      auth: true,
      response: { 200: TarBody },
      detail: { tags, summary: "The job's /output folder as a tar archive, streamed" },
    });
