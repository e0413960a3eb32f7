// Response shapes of /api/builtin-models.
import { type Static, t } from "elysia";
import { Page } from "../http/schemas";

export const BuiltinModelInfo = t.Object({
  id: t.String(),
  name: t.String(),
  task: t.String(),
  description: t.String(),
  image: t.String(),
  defaults: t.Record(t.String(), t.String(), { description: "every parameter the script takes, with its default" }),
  datasetLayout: t.String(),
});
export type BuiltinModelInfo = Static<typeof BuiltinModelInfo>;

export const BuiltinModelPage = Page(BuiltinModelInfo);
export type BuiltinModelPage = Static<typeof BuiltinModelPage>;
