import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authedIn, principalOf } from "../http/context";
import { pageOf, pageQuery } from "../http/schemas";
import {
  createDeployment,
  deleteDeployment,
  getDeployment,
  listDeployments,
  startDeployment,
  stopDeployment,
} from "./service";

const base = "/api/workspaces/:ws/deployments";
const tags = ["deployments"];

export const deploymentRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      base,
      async ({ request, params, query }) =>
        pageOf(await listDeployments(deps, await principalOf(deps, request), params.ws), query),
      { transform: authedIn(deps), query: pageQuery, detail: { tags, summary: "Deployments of a workspace" } },
    )
    .post(
      base,
      async ({ request, params, body, set }) => {
        const out = await createDeployment(deps, await principalOf(deps, request), params.ws, body);
        set.status = 201;
        return out;
      },
      {
        transform: authedIn(deps),
        body: t.Object({
          name: t.String({ maxLength: 100 }),
          description: t.Optional(t.String({ maxLength: 1000 })),
          training: t.String({ maxLength: 100, description: "the training whose output is served" }),
          job: t.Optional(
            t.String({ maxLength: 64, description: "the job whose /output is served (default: newest succeeded)" }),
          ),
          image: t.Optional(t.String({ maxLength: 512, description: "default: the training's image" })),
          command: t.String({ maxLength: 10_000, description: "starts the server; env PORT and HANGAR_MODEL_DIR" }),
          port: t.Optional(t.Integer({ description: "the port the server listens on (default 8000)" })),
          gpus: t.Optional(t.Number({ description: "deployment GPUs (0.25, 0.5 or whole; default 1)" })),
        }),
        detail: {
          tags,
          summary:
            "Create and start a deployment: a serving container on the workspace's deployment GPUs, at /deployments/<ws>/<name>/",
        },
      },
    )
    .get(
      `${base}/:dp`,
      async ({ request, params }) => getDeployment(deps, await principalOf(deps, request), params.ws, params.dp),
      { transform: authedIn(deps), detail: { tags, summary: "Deployment detail with status and URL" } },
    )
    .post(
      `${base}/:dp/start`,
      async ({ request, params }) => startDeployment(deps, await principalOf(deps, request), params.ws, params.dp),
      { transform: authedIn(deps), detail: { tags, summary: "Start a stopped deployment again" } },
    )
    .post(
      `${base}/:dp/stop`,
      async ({ request, params }) => stopDeployment(deps, await principalOf(deps, request), params.ws, params.dp),
      { transform: authedIn(deps), detail: { tags, summary: "Stop a deployment (frees its GPUs)" } },
    )
    .delete(
      `${base}/:dp`,
      async ({ request, params, set }) => {
        await deleteDeployment(deps, await principalOf(deps, request), params.ws, params.dp);
        set.status = 204;
      },
      { transform: authedIn(deps), detail: { tags, summary: "Stop and delete a deployment" } },
    );
