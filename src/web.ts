// Serves the minimal web UI from web/ (static files; the UI talks to the API like any client).
import { existsSync } from "node:fs";
import { join, normalize } from "node:path";
import { Elysia } from "elysia";
import { errorResponse } from "./http/errors";

const WEB_DIR = join(import.meta.dir, "..", "web");

export const webRoutes = () =>
  new Elysia().get(
    "/*",
    ({ params }) => {
      const rel = normalize(params["*"] || "index.html").replace(/^(\.\.(\/|$))+/, "");
      const file = join(WEB_DIR, rel);
      if (!file.startsWith(WEB_DIR) || !existsSync(file) || rel.startsWith("api/"))
        return errorResponse(404, "not_found", "no such page");
      return Bun.file(file);
    },
    { detail: { hide: true } },
  );
