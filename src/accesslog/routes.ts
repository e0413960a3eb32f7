import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { pageOf, pageQuery, TextBody } from "../http/schemas";
import { AccessLogDayPage } from "./model";
import { deleteDay, listDays, readDay } from "./service";

const tags = ["operations"];

export const accessLogRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .get("/api/access-logs", ({ query }) => pageOf(listDays(deps).items, query), {
      auth: "admin",
      query: pageQuery,
      response: { 200: AccessLogDayPage },
      detail: { tags, summary: "Days that have an access log (admin)" },
    })
    .get(
      "/api/access-logs/:day",
      ({ params }) =>
        new Response(readDay(deps, params.day), { headers: { "content-type": "text/plain; charset=utf-8" } }),
      {
        auth: "admin",
        response: { 200: TextBody },
        detail: { tags, summary: "One day's access log as text (admin)" },
      },
    )
    .delete(
      "/api/access-logs/:day",
      ({ params, set }) => {
        deleteDay(deps, params.day);
        set.status = 204;
      },
      { auth: "admin", detail: { tags, summary: "Delete one day's access log (admin)" } },
    );
