import { Elysia } from "elysia";
import { UploadedFiles, UploadQuery } from "../datasets/model";
import type { Deps } from "../deps";
import { page, pageQuery, wildcardPath } from "../http/schemas";
import { memberPlugin } from "../workspaces/plugin";
import { deleteCode, downloadCode, listCode, uploadCode } from "./files";
import { CodeFilePage, CreateTrainingBody, TrainingDetail, TrainingKey, TrainingPage } from "./model";
import { createTraining, generateTrainingKey, getTraining, listTrainings } from "./service";

const base = "/api/workspaces/:ws/trainings";
const tags = ["trainings"];

export const trainingRoutes = (deps: Deps) =>
  new Elysia()
    .use(memberPlugin(deps))
    .get(base, ({ principal, params, query }) => listTrainings(deps, principal, params.ws, page(query)), {
      member: true,
      query: pageQuery,
      response: { 200: TrainingPage },
      detail: { tags, summary: "Trainings I can see in a workspace" },
    })
    .post(
      base,
      async ({ principal, params, body, status }) =>
        status(201, await createTraining(deps, principal, params.ws, body)),
      {
        member: true,
        body: CreateTrainingBody,
        response: { 201: TrainingDetail },
        detail: { tags, summary: "Create a training (advanced, builtin or notebook)" },
      },
    )
    .get(`${base}/:tr`, ({ principal, params }) => getTraining(deps, principal, params.ws, params.tr), {
      member: true,
      response: { 200: TrainingDetail },
      detail: { tags, summary: "Training detail with its status" },
    })
    .post(
      `${base}/:tr/ssh-key`,
      async ({ principal, params, status }) =>
        status(201, await generateTrainingKey(deps, principal, params.ws, params.tr)),
      {
        member: true,
        response: { 201: TrainingKey },
        detail: {
          tags,
          summary:
            "Make an SSH key pair for the training's containers; the private key is shown once (again: replaced)",
        },
      },
    )
    .post(
      `${base}/:tr/files`,
      async ({ principal, params, query, request, status }) =>
        status(201, await uploadCode(deps, principal, params.ws, params.tr, request, query.path)),
      {
        member: true,
        parse: "none",
        query: UploadQuery,
        response: { 201: UploadedFiles },
        detail: { tags, summary: "Upload files into the training's code folder (/code), multipart field 'files'" },
      },
    )
    .get(`${base}/:tr/files`, ({ principal, params }) => listCode(deps, principal, params.ws, params.tr), {
      member: true,
      response: { 200: CodeFilePage },
      detail: { tags, summary: "Files of the training's code folder" },
    })
    .get(
      `${base}/:tr/files/*`,
      ({ principal, params }) => downloadCode(deps, principal, params.ws, params.tr, wildcardPath(params["*"])),
      { member: true, detail: { tags, summary: "Download a code file" } },
    )
    .delete(
      `${base}/:tr/files/*`,
      async ({ principal, params, set }) => {
        await deleteCode(deps, principal, params.ws, params.tr, wildcardPath(params["*"]));
        set.status = 204;
      },
      { member: true, detail: { tags, summary: "Delete a code file" } },
    );
