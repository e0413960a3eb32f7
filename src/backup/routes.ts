import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { pageOf, pageQuery } from "../http/schemas";
import { type BackupFile, backupAndPrune, listBackups } from "./backup";
import { Backup, BackupPage } from "./model";

const tags = ["operations"];
const view = ({ name, bytes, takenAt }: BackupFile): Backup => ({ name, bytes, takenAt });

export const backupRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .get("/api/backups", ({ query }) => pageOf(listBackups(deps.config).map(view), query), {
      auth: "admin",
      query: pageQuery,
      response: { 200: BackupPage },
      detail: { tags, summary: "Database backups in the data dir (admin)" },
    })
    .post(
      "/api/backups",
      async ({ status }) => {
        const { file } = await backupAndPrune(deps.config, deps.clock);
        return status(201, view(file));
      },
      {
        auth: "admin",
        response: { 201: Backup },
        detail: { tags, summary: "Back up the database now (admin)" },
      },
    );
