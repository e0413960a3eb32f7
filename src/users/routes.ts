import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page, pageQuery } from "../http/schemas";
import { CreateUserBody, PatchUserBody, User, UserIdPage, UserIdQuery, UserPage } from "./model";
import { createUser, getUser, listUserIds, listUsersJson, patchUser } from "./service";

const tags = ["users"];

export const userRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .get(
      "/api/users",
      // The hottest read: the page is a cached Blob, sent as is (Elysia does not validate a Response).
      async ({ query }) => new Response(await listUsersJson(deps, page(query))),
      {
        auth: "admin",
        query: pageQuery,
        response: { 200: UserPage },
        detail: { tags, summary: "List users (admin)" },
      },
    )
    .get("/api/user-ids", ({ principal, query }) => listUserIds(deps, principal, page(query), query.q), {
      auth: true,
      query: UserIdQuery,
      response: { 200: UserIdPage },
      detail: {
        tags,
        summary: "IDs of active users, for a workspace's Users picker (admins and workspace managers)",
      },
    })
    .post("/api/users", async ({ body, status }) => status(201, await createUser(deps, body)), {
      auth: "admin",
      body: CreateUserBody,
      response: { 201: User },
      detail: { tags, summary: "Create a user (admin)" },
    })
    .get("/api/users/:userId", ({ params }) => getUser(deps, params.userId), {
      auth: "admin",
      response: { 200: User },
      detail: { tags, summary: "One user (admin)" },
    })
    .patch("/api/users/:userId", ({ principal, params, body }) => patchUser(deps, principal, params.userId, body), {
      auth: "admin",
      body: PatchUserBody,
      response: { 200: User },
      detail: { tags, summary: "Change role, set password, or (de)activate a user (admin); no DELETE" },
    });
