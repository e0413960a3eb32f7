import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { authed, principalOf } from "../http/context";
import { pageOf, pageQuery } from "../http/schemas";
import { backupAndPrune, listBackups } from "./backup";

const tags = ["operations"];
const view = ({ name, bytes, takenAt }: { name: string; bytes: number; takenAt: string }) => ({ name, bytes, takenAt });

export const backupRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/backups",
      async ({ request, query }) => {
        await principalOf(deps, request, "admin");
        return pageOf(listBackups(deps.config).map(view), query);
      },
      {
        transform: authed(deps, "admin"),
        query: pageQuery,
        detail: { tags, summary: "Database backups in the data dir (admin)" },
      },
    )
    .post(
      "/api/backups",
      async ({ request, set }) => {
        await principalOf(deps, request, "admin");
        const { file } = await backupAndPrune(deps.config, deps.clock);
        set.status = 201;
        return view(file);
      },
      { transform: authed(deps, "admin"), detail: { tags, summary: "Back up the database now (admin)" } },
    );
