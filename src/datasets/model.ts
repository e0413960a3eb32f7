// Request and response shapes of /api/workspaces/:ws/datasets (and uploads' answers).
import { type Static, t } from "elysia";
import { DATASET_ACCESS } from "../domain/enums";
import { Literals, Name, Page, Time } from "../http/schemas";

export const CreateDatasetBody = t.Object({
  name: Name(),
  access: t.Optional(Literals(DATASET_ACCESS)),
});
export type CreateDatasetBody = Static<typeof CreateDatasetBody>;

export const UploadQuery = t.Object({
  path: t.Optional(t.String({ maxLength: 1024, description: "folder prefix for the uploaded files" })),
});

export const Dataset = t.Object({
  name: t.String(),
  workspace: t.String(),
  access: Literals(DATASET_ACCESS),
  createdBy: t.String(),
  createdAt: Time,
  updatedAt: Time,
  files: t.Integer(),
  totalBytes: t.Integer(),
});
export type Dataset = Static<typeof Dataset>;

export const DatasetPage = Page(Dataset);
export type DatasetPage = Static<typeof DatasetPage>;

export const DatasetFile = t.Object({
  path: t.String(),
  type: t.Literal("file"),
  mediaType: t.String(),
  size: t.Integer(),
  modifiedBy: t.Nullable(t.String()),
  modifiedAt: Time,
});
export type DatasetFile = Static<typeof DatasetFile>;

export const DatasetFilePage = Page(DatasetFile);
export type DatasetFilePage = Static<typeof DatasetFilePage>;

/** The files one upload placed (datasets and training code folders). */
export const UploadedFiles = Page(t.Object({ path: t.String(), size: t.Integer() }));
export type UploadedFiles = Static<typeof UploadedFiles>;
