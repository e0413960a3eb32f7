// Request and response shapes of /api/images.
import { type Static, t } from "elysia";
import { IMAGE_RELEASES, IMAGE_SOURCE_TYPES, IMAGE_STATUSES } from "../domain/enums";
import { Literals, Page, Time } from "../http/schemas";

export const ImagesQuery = t.Object({
  workspace: t.Optional(t.String({ maxLength: 64, description: "only images usable in this workspace" })),
  limit: t.Optional(t.String({ description: "page size, 1–500 (default 50)" })),
  offset: t.Optional(t.String({ description: "items to skip (default 0)" })),
});

export const CreateImageBody = t.Object({
  name: t.String({ maxLength: 20 }),
  description: t.Optional(t.String({ maxLength: 200 })),
  // One object rather than a union per type, so a missing field is named (source.ref, source.dockerfile).
  source: t.Object({
    type: Literals(IMAGE_SOURCE_TYPES),
    ref: t.Optional(t.String({ maxLength: 255, description: "pull: the image reference" })),
    dockerfile: t.Optional(t.String({ maxLength: 100_000, description: "build: the Dockerfile text" })),
    context: t.Optional(t.Literal("upload", { description: "build: the context tar comes to /upload" })),
  }),
  release: Literals(IMAGE_RELEASES),
  workspaces: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 1000 })),
});
export type CreateImageBody = Static<typeof CreateImageBody>;

export const ImageSourceView = t.Union([
  t.Object({ type: t.Literal("pull"), ref: t.String() }),
  t.Object({ type: t.Literal("build"), dockerfile: t.String() }),
  t.Object({ type: t.Literal("tar") }),
]);

export const Image = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.String(),
  source: ImageSourceView,
  reference: t.String({ description: "the tag in Docker" }),
  release: Literals(IMAGE_RELEASES),
  workspaces: t.Array(t.String()),
  status: Literals(IMAGE_STATUSES),
  statusReason: t.Nullable(t.String()),
  sizeBytes: t.Nullable(t.Integer()),
  uploader: t.String(),
  builtin: t.Boolean(),
  createdAt: Time,
  updatedAt: Time,
});
export type Image = Static<typeof Image>;

export const ImagePage = Page(Image);
export type ImagePage = Static<typeof ImagePage>;
