import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authed, authedIn, principalOf } from "../http/context";
import { page, pageQuery } from "../http/schemas";
import { createWorkspace, getWorkspace, listWorkspaces, patchWorkspace } from "./service";

const tags = ["workspaces"];
const fields = {
  description: t.Optional(t.String({ maxLength: 2000 })),
  startsAt: t.String({ maxLength: 40, description: "ISO 8601" }),
  endsAt: t.String({ maxLength: 40, description: "ISO 8601" }),
  trainingGpus: t.Integer(),
  deploymentGpus: t.Integer(),
  manager: t.String({ maxLength: 40 }),
  users: t.Optional(t.Array(t.String({ maxLength: 40 }), { maxItems: 10_000 })),
};

export const workspaceRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/workspaces",
      async ({ request, query }) => listWorkspaces(deps, await principalOf(deps, request), page(query)),
      { transform: authed(deps), query: pageQuery, detail: { tags, summary: "Workspaces I can see (admins: all)" } },
    )
    .post(
      "/api/workspaces",
      async ({ body, set }) => {
        const ws = await createWorkspace(deps, body);
        set.status = 201;
        return ws;
      },
      {
        transform: authed(deps, "admin"),
        body: t.Object({ name: t.String({ maxLength: 64 }), ...fields }),
        detail: { tags, summary: "Create a workspace and reserve its GPUs for its period (admin)" },
      },
    )
    .get(
      "/api/workspaces/:ws",
      async ({ request, params }) => getWorkspace(deps, await principalOf(deps, request), params.ws),
      { transform: authedIn(deps), detail: { tags, summary: "Workspace detail: GPUs in use, counts, recent tasks" } },
    )
    .patch(
      "/api/workspaces/:ws",
      async ({ request, params, body }) => patchWorkspace(deps, await principalOf(deps, request), params.ws, body),
      {
        transform: authedIn(deps),
        body: t.Partial(t.Object(fields)),
        detail: { tags, summary: "Edit a workspace (admin: all; its manager: description and users)" },
      },
    );
