import { Elysia, t } from "elysia";
import { BUILTIN_MODELS } from "../builtin/catalogue";
import type { Deps } from "../deps";
import { authed, authedIn, principalOf } from "../http/context";
import { page, pageQuery, wildcardPath } from "../http/schemas";
import { cancelJob, createJobs, followJobLog, getJob, jobEvents, jobLog, listJobs } from "../jobs/service";
import { startNotebook, stopNotebook } from "../notebooks/service";
import { deleteCode, downloadCode, listCode, uploadCode } from "./files";
import { createTraining, generateTrainingKey, getTraining, listTrainings } from "./service";

const base = "/api/workspaces/:ws/trainings";

export const trainingRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/builtin-models",
      () => {
        const items = BUILTIN_MODELS.map(({ id, name, task, description, image, defaults, datasetLayout }) => ({
          id,
          name,
          task,
          description,
          image,
          defaults,
          datasetLayout,
        }));
        return { items, total: items.length };
      },
      { transform: authed(deps), detail: { tags: ["trainings"], summary: "The catalogue of built-in models" } },
    )
    .get(
      base,
      async ({ request, params, query }) =>
        listTrainings(deps, await principalOf(deps, request), params.ws, page(query)),
      {
        transform: authedIn(deps),
        query: pageQuery,
        detail: { tags: ["trainings"], summary: "Trainings I can see in a workspace" },
      },
    )
    .post(
      base,
      async ({ request, params, body, set }) => {
        const tr = await createTraining(deps, await principalOf(deps, request), params.ws, body);
        set.status = 201;
        return tr;
      },
      {
        transform: authedIn(deps),
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          description: t.Optional(t.String({ maxLength: 2000 })),
          type: t.String({ maxLength: 20 }),
          gpus: t.Number(),
          access: t.String({ maxLength: 20 }),
          owner: t.Optional(t.String({ maxLength: 40 })),
          users: t.Optional(t.Array(t.String({ maxLength: 40 }), { maxItems: 1000 })),
          image: t.Optional(t.String({ maxLength: 512 })),
          builtinModel: t.Optional(t.String({ maxLength: 64 })),
          idleTimeoutSeconds: t.Optional(t.Integer()),
        }),
        detail: { tags: ["trainings"], summary: "Create a training (advanced, builtin or notebook)" },
      },
    )
    .get(
      `${base}/:tr`,
      async ({ request, params }) => getTraining(deps, await principalOf(deps, request), params.ws, params.tr),
      { transform: authedIn(deps), detail: { tags: ["trainings"], summary: "Training detail with its status" } },
    )
    .post(
      `${base}/:tr/ssh-key`,
      async ({ request, params, set }) => {
        const key = await generateTrainingKey(deps, await principalOf(deps, request), params.ws, params.tr);
        set.status = 201;
        return key;
      },
      {
        transform: authedIn(deps),
        detail: {
          tags: ["trainings"],
          summary:
            "Make an SSH key pair for the training's containers; the private key is shown once (again: replaced)",
        },
      },
    )
    .post(
      `${base}/:tr/start`,
      async ({ request, params }) => startNotebook(deps, await principalOf(deps, request), params.ws, params.tr),
      { transform: authedIn(deps), detail: { tags: ["trainings"], summary: "Start a notebook training's Jupyter" } },
    )
    .post(
      `${base}/:tr/stop`,
      async ({ request, params }) => stopNotebook(deps, await principalOf(deps, request), params.ws, params.tr),
      {
        transform: authedIn(deps),
        detail: { tags: ["trainings"], summary: "Stop a notebook training (frees its GPU)" },
      },
    )
    .post(
      `${base}/:tr/files`,
      async ({ request, params, query, set }) => {
        const out = await uploadCode(deps, await principalOf(deps, request), params.ws, params.tr, request, query.path);
        set.status = 201;
        return out;
      },
      {
        transform: authedIn(deps),
        parse: "none",
        query: t.Object({ path: t.Optional(t.String({ maxLength: 1024 })) }),
        detail: {
          tags: ["trainings"],
          summary: "Upload files into the training's code folder (/code), multipart field 'files'",
        },
      },
    )
    .get(
      `${base}/:tr/files`,
      async ({ request, params }) => listCode(deps, await principalOf(deps, request), params.ws, params.tr),
      { transform: authedIn(deps), detail: { tags: ["trainings"], summary: "Files of the training's code folder" } },
    )
    .get(
      `${base}/:tr/files/*`,
      async ({ request, params }) =>
        downloadCode(deps, await principalOf(deps, request), params.ws, params.tr, wildcardPath(params["*"])),
      { transform: authedIn(deps), detail: { tags: ["trainings"], summary: "Download a code file" } },
    )
    .delete(
      `${base}/:tr/files/*`,
      async ({ request, params, set }) => {
        await deleteCode(deps, await principalOf(deps, request), params.ws, params.tr, wildcardPath(params["*"]));
        set.status = 204;
      },
      { transform: authedIn(deps), detail: { tags: ["trainings"], summary: "Delete a code file" } },
    )
    .post(
      `${base}/:tr/jobs`,
      async ({ request, params, body, set }) => {
        const jobs = await createJobs(deps, await principalOf(deps, request), params.ws, params.tr, body);
        set.status = 201;
        return jobs;
      },
      {
        transform: authedIn(deps),
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          image: t.Optional(t.String({ maxLength: 512 })),
          dataset: t.Optional(t.String({ maxLength: 64 })),
          command: t.Optional(t.String({ maxLength: 20_000 })),
          gpuOptions: t.Optional(t.Array(t.String({ maxLength: 40 }), { maxItems: 10 })),
          parameterSets: t.Optional(
            t.Array(t.Record(t.String(), t.Union([t.String(), t.Number(), t.Boolean()])), { maxItems: 1000 }),
          ),
          gpus: t.Optional(t.Number()),
          nodes: t.Optional(t.Integer()),
          retryOnNodeLoss: t.Optional(t.Boolean()),
        }),
        detail: { tags: ["jobs"], summary: "Run jobs: one per parameter set, one after another" },
      },
    )
    .get(
      `${base}/:tr/jobs`,
      async ({ request, params, query }) =>
        listJobs(deps, await principalOf(deps, request), params.ws, params.tr, page(query)),
      { transform: authedIn(deps), query: pageQuery, detail: { tags: ["jobs"], summary: "Jobs of a training" } },
    )
    .get("/api/jobs/:id", async ({ request, params }) => getJob(deps, await principalOf(deps, request), params.id), {
      transform: authedIn(deps),
      detail: { tags: ["jobs"], summary: "One job: status, why it waits, where it runs" },
    })
    .get(
      "/api/jobs/:id/events",
      async ({ request, params }) => jobEvents(deps, await principalOf(deps, request), params.id),
      {
        transform: authedIn(deps),
        detail: { tags: ["jobs"], summary: "The job's state transitions with time and reason" },
      },
    )
    .post(
      "/api/jobs/:id/cancel",
      async ({ request, params }) => cancelJob(deps, await principalOf(deps, request), params.id),
      {
        transform: authedIn(deps),
        detail: { tags: ["jobs"], summary: "Cancel a job: its containers stop, its GPUs are free at once" },
      },
    )
    .get(
      "/api/jobs/:id/log",
      async ({ request, params, query }) => {
        const principal = await principalOf(deps, request);
        if (query.follow === "1" || query.follow === "true") return followJobLog(deps, principal, params.id);
        return new Response(await jobLog(deps, principal, params.id), {
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      },
      {
        transform: authedIn(deps),
        query: t.Object({ follow: t.Optional(t.String()) }),
        detail: { tags: ["jobs"], summary: "The whole log as text; ?follow=1 streams it (SSE) until the job ends" },
      },
    );
