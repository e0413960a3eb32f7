import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authed, principalOf } from "../http/context";
import { page } from "../http/schemas";
import { createImage, deleteImage, getImage, listImages, uploadImageFile } from "./service";

const tags = ["images"];

export const imageRoutes = (deps: Deps) =>
  new Elysia()
    .get(
      "/api/images",
      async ({ request, query }) =>
        listImages(deps, await principalOf(deps, request), { workspace: query.workspace, ...page(query) }),
      {
        transform: authed(deps),
        query: t.Object({
          workspace: t.Optional(t.String({ maxLength: 64 })),
          limit: t.Optional(t.String()),
          offset: t.Optional(t.String()),
        }),
        detail: { tags, summary: "Images I may use (?workspace= for those usable in one workspace)" },
      },
    )
    .post(
      "/api/images",
      async ({ request, body, set }) => {
        const image = await createImage(deps, await principalOf(deps, request), body);
        set.status = 201;
        return image;
      },
      {
        transform: authed(deps),
        body: t.Object({
          name: t.String({ maxLength: 64 }),
          description: t.Optional(t.String({ maxLength: 1000 })),
          source: t.Object({
            type: t.String({ maxLength: 10 }),
            ref: t.Optional(t.String({ maxLength: 512 })),
            dockerfile: t.Optional(t.String({ maxLength: 200_000 })),
            context: t.Optional(t.String({ maxLength: 10 })),
          }),
          release: t.String({ maxLength: 20 }),
          workspaces: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 1000 })),
        }),
        detail: { tags, summary: "Add an image: pull a reference, build a Dockerfile, or load a tar (uploaded next)" },
      },
    )
    .get(
      "/api/images/:id",
      async ({ request, params }) => getImage(deps, await principalOf(deps, request), params.id),
      {
        transform: authed(deps),
        detail: { tags, summary: "One image with its status" },
      },
    )
    .delete(
      "/api/images/:id",
      async ({ request, params, set }) => {
        await deleteImage(deps, await principalOf(deps, request), params.id);
        set.status = 204;
      },
      { transform: authed(deps), detail: { tags, summary: "Delete an image (uploader or admin)" } },
    )
    .post(
      "/api/images/:id/upload",
      async ({ request, params }) => uploadImageFile(deps, await principalOf(deps, request), params.id, request),
      {
        transform: authed(deps),
        parse: "none",
        detail: {
          tags,
          summary:
            "Upload the docker-save tar (type tar) or the build context tar (type build), multipart field 'file'",
        },
      },
    );
