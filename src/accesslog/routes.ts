import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { authed, principalOf } from "../http/context";
import { pageOf, pageQuery } from "../http/schemas";
import { deleteDay, listDays, readDay } from "./service";

const tags = ["operations"];

export const accessLogRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/access-logs",
      async ({ request, query }) => {
        await principalOf(deps, request, "admin");
        return pageOf(listDays(deps).items, query);
      },
      {
        transform: authed(deps, "admin"),
        query: pageQuery,
        detail: { tags, summary: "Days that have an access log (admin)" },
      },
    )
    .get(
      "/api/access-logs/:day",
      async ({ request, params }) => {
        await principalOf(deps, request, "admin");
        return new Response(readDay(deps, params.day), { headers: { "content-type": "text/plain; charset=utf-8" } });
      },
      { transform: authed(deps, "admin"), detail: { tags, summary: "One day's access log as text (admin)" } },
    )
    .delete(
      "/api/access-logs/:day",
      async ({ request, params, set }) => {
        await principalOf(deps, request, "admin");
        deleteDay(deps, params.day);
        set.status = 204;
      },
      { transform: authed(deps, "admin"), detail: { tags, summary: "Delete one day's access log (admin)" } },
    );
