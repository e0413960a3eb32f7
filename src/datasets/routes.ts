import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page, pageQuery, wildcardPath } from "../http/schemas";
import { memberPlugin } from "../workspaces/plugin";
import { CreateDatasetBody, Dataset, DatasetFilePage, DatasetPage, UploadedFiles, UploadQuery } from "./model";
import {
  createDataset,
  deleteDataset,
  deleteFile,
  downloadFile,
  getDataset,
  listAllDatasets,
  listDatasets,
  listFiles,
  uploadFiles,
} from "./service";

const tags = ["datasets"];
const base = "/api/workspaces/:ws/datasets";

export const datasetRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .use(memberPlugin(deps))
    .get("/api/datasets", ({ query }) => listAllDatasets(deps, page(query)), {
      auth: "admin",
      query: pageQuery,
      response: { 200: DatasetPage },
      detail: { tags, summary: "Every workspace's datasets (admin)" },
    })
    .get(base, ({ principal, params, query }) => listDatasets(deps, principal, params.ws, page(query)), {
      member: true,
      query: pageQuery,
      response: { 200: DatasetPage },
      detail: { tags, summary: "Datasets of a workspace" },
    })
    .post(
      base,
      async ({ principal, params, body, status }) => status(201, await createDataset(deps, principal, params.ws, body)),
      {
        member: true,
        body: CreateDatasetBody,
        response: { 201: Dataset },
        detail: { tags, summary: "Create a dataset (access read-write or read-only)" },
      },
    )
    .get(`${base}/:ds`, ({ principal, params }) => getDataset(deps, principal, params.ws, params.ds), {
      member: true,
      response: { 200: Dataset },
      detail: { tags, summary: "Dataset detail: files, totalBytes" },
    })
    .delete(
      `${base}/:ds`,
      async ({ principal, params, set }) => {
        await deleteDataset(deps, principal, params.ws, params.ds);
        set.status = 204;
      },
      { member: true, detail: { tags, summary: "Delete a dataset and its files" } },
    )
    .post(
      `${base}/:ds/files`,
      async ({ principal, params, query, request, status }) =>
        status(201, await uploadFiles(deps, principal, params.ws, params.ds, request, query.path)),
      {
        member: true,
        parse: "none",
        query: UploadQuery,
        response: { 201: UploadedFiles },
        detail: {
          tags,
          summary:
            "Upload files: multipart/form-data, field 'files' (many; names may hold folders), optional 'path' prefix",
        },
      },
    )
    .get(
      `${base}/:ds/files`,
      ({ principal, params, query }) => listFiles(deps, principal, params.ws, params.ds, page(query)),
      {
        member: true,
        query: pageQuery,
        response: { 200: DatasetFilePage },
        detail: { tags, summary: "Files of a dataset" },
      },
    )
    .get(
      `${base}/:ds/files/*`,
      ({ principal, params }) => downloadFile(deps, principal, params.ws, params.ds, wildcardPath(params["*"])),
      { member: true, detail: { tags, summary: "Download one file" } },
    )
    .delete(
      `${base}/:ds/files/*`,
      async ({ principal, params, set }) => {
        await deleteFile(deps, principal, params.ws, params.ds, wildcardPath(params["*"]));
        set.status = 204;
      },
      { member: true, detail: { tags, summary: "Delete one file" } },
    );
