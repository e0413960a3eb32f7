import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { BUILTIN_MODELS } from "./catalogue";
import { BuiltinModelPage } from "./model";

export const builtinRoutes = (deps: Deps) =>
  new Elysia().use(authPlugin(deps)).get(
    "/api/builtin-models",
    (): BuiltinModelPage => {
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
    {
      auth: true,
      response: { 200: BuiltinModelPage },
      detail: { tags: ["trainings"], summary: "The catalogue of built-in models" },
    },
  );
