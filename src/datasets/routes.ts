import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authedIn, principalOf } from "../http/context";
import { page, pageQuery, wildcardPath } from "../http/schemas";
import {
  createDataset,
  deleteDataset,
  deleteFile,
  downloadFile,
  getDataset,
  listDatasets,
  listFiles,
  uploadFiles,
} from "./service";

const tags = ["datasets"];
const base = "/api/workspaces/:ws/datasets";

export const datasetRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      base,
      async ({ request, params, query }) =>
        listDatasets(deps, await principalOf(deps, request), params.ws, page(query)),
      { transform: authedIn(deps), query: pageQuery, detail: { tags, summary: "Datasets of a workspace" } },
    )
    .post(
      base,
      async ({ request, params, body, set }) => {
        const ds = await createDataset(deps, await principalOf(deps, request), params.ws, body);
        set.status = 201;
        return ds;
      },
      {
        transform: authedIn(deps),
        body: t.Object({ name: t.String({ maxLength: 64 }), access: t.Optional(t.String({ maxLength: 20 })) }),
        detail: { tags, summary: "Create a dataset (access read-write or read-only)" },
      },
    )
    .get(
      `${base}/:ds`,
      async ({ request, params }) => getDataset(deps, await principalOf(deps, request), params.ws, params.ds),
      { transform: authedIn(deps), detail: { tags, summary: "Dataset detail: files, totalBytes" } },
    )
    .delete(
      `${base}/:ds`,
      async ({ request, params, set }) => {
        await deleteDataset(deps, await principalOf(deps, request), params.ws, params.ds);
        set.status = 204;
      },
      { transform: authedIn(deps), detail: { tags, summary: "Delete a dataset and its files" } },
    )
    .post(
      `${base}/:ds/files`,
      async ({ request, params, query, set }) => {
        const result = await uploadFiles(
          deps,
          await principalOf(deps, request),
          params.ws,
          params.ds,
          request,
          query.path,
        );
        set.status = 201;
        return result;
      },
      {
        transform: authedIn(deps),
        parse: "none",
        query: t.Object({ path: t.Optional(t.String({ maxLength: 1024 })) }),
        detail: {
          tags,
          summary:
            "Upload files: multipart/form-data, field 'files' (many; names may hold folders), optional 'path' prefix",
        },
      },
    )
    .get(
      `${base}/:ds/files`,
      async ({ request, params, query }) =>
        listFiles(deps, await principalOf(deps, request), params.ws, params.ds, page(query)),
      { transform: authedIn(deps), query: pageQuery, detail: { tags, summary: "Files of a dataset" } },
    )
    .get(
      `${base}/:ds/files/*`,
      async ({ request, params }) =>
        downloadFile(deps, await principalOf(deps, request), params.ws, params.ds, wildcardPath(params["*"])),
      { transform: authedIn(deps), detail: { tags, summary: "Download one file" } },
    )
    .delete(
      `${base}/:ds/files/*`,
      async ({ request, params, set }) => {
        await deleteFile(deps, await principalOf(deps, request), params.ws, params.ds, wildcardPath(params["*"]));
        set.status = 204;
      },
      { transform: authedIn(deps), detail: { tags, summary: "Delete one file" } },
    );
