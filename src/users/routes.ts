import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authed, principalOf } from "../http/context";
import { page } from "../http/schemas";
import { createUser, getUser, listUsersJson, patchUser } from "./service";

const tags = ["users"];
const pageParameters = [
  {
    name: "limit",
    in: "query" as const,
    schema: { type: "string" as const },
    description: "page size, 1–500 (default 50)",
  },
  {
    name: "offset",
    in: "query" as const,
    schema: { type: "string" as const },
    description: "items to skip (default 0)",
  },
];

export const userRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/users",
      // The hottest read: no body, so no transform hook; the query is read after auth here.
      async ({ request, query }) => {
        await principalOf(deps, request, "admin");
        return new Response(await listUsersJson(deps, page(query)));
      },
      { detail: { tags, summary: "List users (admin)", parameters: pageParameters } },
    )
    .post(
      "/api/users",
      async ({ request, body, set }) => {
        await principalOf(deps, request, "admin");
        const user = await createUser(deps, body);
        set.status = 201;
        return user;
      },
      {
        body: t.Object({
          userId: t.String({ maxLength: 100 }),
          password: t.String({ maxLength: 200 }),
          role: t.String({ maxLength: 20 }),
        }),
        transform: authed(deps, "admin"),
        detail: { tags, summary: "Create a user (admin)" },
      },
    )
    .get(
      "/api/users/:userId",
      async ({ request, params }) => {
        await principalOf(deps, request, "admin");
        return getUser(deps, params.userId);
      },
      { transform: authed(deps, "admin"), detail: { tags, summary: "One user (admin)" } },
    )
    .patch(
      "/api/users/:userId",
      async ({ request, params, body }) =>
        patchUser(deps, await principalOf(deps, request, "admin"), params.userId, body),
      {
        body: t.Object({
          role: t.Optional(t.String({ maxLength: 20 })),
          password: t.Optional(t.String({ maxLength: 200 })),
          active: t.Optional(t.Boolean()),
        }),
        transform: authed(deps, "admin"),
        detail: { tags, summary: "Change role, set password, or (de)activate a user (admin); no DELETE" },
      },
    );
