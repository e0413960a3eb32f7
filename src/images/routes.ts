import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { page } from "../http/schemas";
import { CreateImageBody, Image, ImagePage, ImagesQuery } from "./model";
import { createImage, deleteImage, getImage, listImages, uploadImageFile } from "./service";

const tags = ["images"];

export const imageRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .get(
      "/api/images",
      ({ principal, query }) => listImages(deps, principal, { workspace: query.workspace, ...page(query) }),
      {
        auth: true,
        query: ImagesQuery,
        response: { 200: ImagePage },
        detail: { tags, summary: "Images I may use (?workspace= for those usable in one workspace)" },
      },
    )
    .post("/api/images", async ({ principal, body, status }) => status(201, await createImage(deps, principal, body)), {
      auth: true,
      body: CreateImageBody,
      response: { 201: Image },
      detail: { tags, summary: "Add an image: pull a reference, build a Dockerfile, or load a tar (uploaded next)" },
    })
    .get("/api/images/:id", ({ principal, params }) => getImage(deps, principal, params.id), {
      auth: true,
      response: { 200: Image },
      detail: { tags, summary: "One image with its status" },
    })
    .delete(
      "/api/images/:id",
      async ({ principal, params, set }) => {
        await deleteImage(deps, principal, params.id);
        set.status = 204;
      },
      { auth: true, detail: { tags, summary: "Delete an image (uploader or admin)" } },
    )
    .post(
      "/api/images/:id/upload",
      ({ principal, params, request }) => uploadImageFile(deps, principal, params.id, request),
      {
        auth: true,
        parse: "none",
        response: { 200: Image },
        detail: {
          tags,
          summary:
            "Upload the docker-save tar (type tar) or the build context tar (type build), multipart field 'file'",
        },
      },
    );
