// Datasets (docs/product.md#datasets): per workspace, read-write or read-only, files uploaded by streaming.
// `read-only` datasets are mounted read-only in jobs and only their creator, the workspace's
// manager or an admin change their files; `read-write` ones any member may change.
import { mkdir } from "node:fs/promises";
import { and, eq, inArray } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { DATASET_ACCESS, isOneOf } from "../domain/enums";
import { badRequest, conflict, forbidden, notFound } from "../domain/errors";
import { nameProblem } from "../domain/rules";
import { dataLayout } from "../lib/layout";
import { reserveSpace } from "../lib/quota";
import type { Tables } from "../store/store";
import { requireNotExpired, type WorkspaceAccess, workspaceFor } from "../workspaces/access";
import type { CreateDatasetBody, Dataset, DatasetFilePage, DatasetPage, UploadedFiles } from "./model";
import { rootDeleter, sweepTrash } from "./rootDelete";
import {
  bytesUnder,
  checkRelative,
  fileResponse,
  placeFiles,
  removeFile,
  removeTree,
  resolveInside,
  walkFiles,
} from "./storage";
import { stageUpload } from "./upload";

type DatasetRow = Tables["datasets"]["$inferSelect"];
const MAX_FILES_PER_UPLOAD = 10_000;

interface DatasetRef {
  ws: WorkspaceAccess;
  row: DatasetRow;
  dir: string;
}

async function datasetFor(deps: Deps, principal: Principal, ws: string, ds: string): Promise<DatasetRef> {
  const access = await workspaceFor(deps, principal, ws);
  const { store } = deps;
  const [row] = await store.db
    .select()
    .from(store.t.datasets)
    .where(and(eq(store.t.datasets.workspace, ws), eq(store.t.datasets.name, ds)))
    .limit(1);
  if (!row) throw notFound(`dataset ${ds}`);
  return { ws: access, row, dir: dataLayout(deps.config.dataDir).dataset(ws, ds) };
}

function requireWrite(principal: Principal, ref: DatasetRef, what: string): void {
  if (ref.row.access === "read-write") return;
  if (ref.ws.isAdmin || ref.ws.isManager || ref.row.createdBy === principal.userId) return;
  throw forbidden(
    `dataset ${ref.row.name} is read-only: only its creator, the workspace manager or an admin can ${what}`,
  );
}

export async function createDataset(
  deps: Deps,
  principal: Principal,
  ws: string,
  input: CreateDatasetBody,
): Promise<Dataset> {
  const access = await workspaceFor(deps, principal, ws);
  requireNotExpired(deps, access.row, "creating a dataset");
  const problem = nameProblem(input.name, "dataset name");
  if (problem) throw badRequest("name", problem);
  const mode = input.access ?? "read-write";
  if (!isOneOf(DATASET_ACCESS, mode)) throw badRequest("access", "access must be read-write or read-only");
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  const id = crypto.randomUUID();
  const inserted = await store.tx((db) =>
    db
      .insert(store.t.datasets)
      .values({
        id,
        workspace: ws,
        name: input.name,
        access: mode,
        createdBy: principal.userId,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning(),
  );
  if (!inserted[0]) throw conflict(`dataset ${input.name} already exists in ${ws}`, "duplicate", "name");
  await mkdir(dataLayout(deps.config.dataDir).dataset(ws, input.name), { recursive: true });
  return view(inserted[0], []);
}

function view(row: DatasetRow, files: { size: number }[]): Dataset {
  return {
    name: row.name,
    workspace: row.workspace,
    access: row.access,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    files: files.length,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
  };
}

export async function listDatasets(
  deps: Deps,
  principal: Principal,
  ws: string,
  page: { limit: number; offset: number },
): Promise<DatasetPage> {
  await workspaceFor(deps, principal, ws);
  const { store } = deps;
  const rows = await store.db
    .select()
    .from(store.t.datasets)
    .where(eq(store.t.datasets.workspace, ws))
    .orderBy(store.t.datasets.name);
  const slice = rows.slice(page.offset, page.offset + page.limit);
  const items = await Promise.all(
    slice.map(async (r) => view(r, await walkFiles(dataLayout(deps.config.dataDir).dataset(ws, r.name)))),
  );
  return { items, total: rows.length };
}

/** Every workspace's datasets, by workspace then name (admins: the Datasets page). */
export async function listAllDatasets(deps: Deps, page: { limit: number; offset: number }): Promise<DatasetPage> {
  const { store } = deps;
  const rows = await store.db
    .select()
    .from(store.t.datasets)
    .orderBy(store.t.datasets.workspace, store.t.datasets.name);
  const layout = dataLayout(deps.config.dataDir);
  const slice = rows.slice(page.offset, page.offset + page.limit);
  const items = await Promise.all(
    slice.map(async (r) => view(r, await walkFiles(layout.dataset(r.workspace, r.name)))),
  );
  return { items, total: rows.length };
}

export async function getDataset(deps: Deps, principal: Principal, ws: string, ds: string): Promise<Dataset> {
  const ref = await datasetFor(deps, principal, ws, ds);
  return view(ref.row, await walkFiles(ref.dir));
}

export async function deleteDataset(deps: Deps, principal: Principal, ws: string, ds: string): Promise<void> {
  const ref = await datasetFor(deps, principal, ws, ds);
  if (!ref.ws.isAdmin && !ref.ws.isManager && ref.row.createdBy !== principal.userId)
    throw forbidden("only the dataset's creator, the workspace manager or an admin can delete it");
  await deps.store.tx((db) => db.delete(deps.store.t.datasets).where(eq(deps.store.t.datasets.id, ref.row.id)));
  await removeTree(ref.dir, dataLayout(deps.config.dataDir).staging);
  // What a job made as root stayed in the trash: removed as root (datasets/rootDelete).
  await sweepTrash(deps);
}

export async function listFiles(
  deps: Deps,
  principal: Principal,
  ws: string,
  ds: string,
  page: { limit: number; offset: number },
): Promise<DatasetFilePage> {
  const ref = await datasetFor(deps, principal, ws, ds);
  const files = await walkFiles(ref.dir);
  const slice = files.slice(page.offset, page.offset + page.limit);
  const meta = new Map<string, string>();
  if (slice.length) {
    const rows = await deps.store.db
      .select()
      .from(deps.store.t.datasetFiles)
      .where(
        and(
          eq(deps.store.t.datasetFiles.datasetId, ref.row.id),
          inArray(
            deps.store.t.datasetFiles.path,
            slice.map((f) => f.path),
          ),
        ),
      );
    for (const r of rows) meta.set(r.path, r.modifiedBy);
  }
  return {
    items: slice.map((f) => ({
      path: f.path,
      type: "file",
      mediaType: Bun.file(f.path).type.split(";")[0] as string,
      size: f.size,
      modifiedBy: meta.get(f.path) ?? null,
      modifiedAt: f.modifiedAt,
    })),
    total: files.length,
  };
}

export async function uploadFiles(
  deps: Deps,
  principal: Principal,
  ws: string,
  ds: string,
  request: Request,
  prefix: string | undefined,
): Promise<UploadedFiles> {
  const ref = await datasetFor(deps, principal, ws, ds);
  requireNotExpired(deps, ref.ws.row, "uploading files");
  requireWrite(principal, ref, "upload files");
  if (prefix !== undefined && prefix.replace(/^\/+|\/+$/g, "") !== "")
    checkRelative("path", prefix.replace(/^\/+|\/+$/g, ""));
  const quota = deps.config.workspaceQuotaMiB * 1024 * 1024;
  const folder = dataLayout(deps.config.dataDir).workspaceDatasets(ws);
  // Reserved as the bytes stream in: concurrent uploads share the quota, never each take it all.
  const room = await reserveSpace(folder, quota, () => bytesUnder(folder));
  let staged: Awaited<ReturnType<typeof stageUpload>>;
  try {
    staged = await stageUpload(
      request,
      dataLayout(deps.config.dataDir).staging,
      {
        maxBytes: quota,
        maxFiles: MAX_FILES_PER_UPLOAD,
        stagingMaxBytes: deps.config.stagingMiB * 1024 * 1024,
        take: (n) => room.take(n),
        quotaMessage: `the upload exceeds the workspace's storage quota (HANGAR_WORKSPACE_QUOTA_MB: ${deps.config.workspaceQuotaMiB} MiB)`,
      },
      prefix,
    );
  } catch (err) {
    room.release();
    throw err;
  }
  try {
    // Every target is checked before the first one is moved: all files land, or none (the
    // moves themselves go through descriptors: a link swapped in since is not followed).
    await Promise.all(staged.files.map((f) => resolveInside(ref.dir, f.path, "files")));
    await room.land(() => placeFiles(ref.dir, staged.files));
  } finally {
    room.release();
    await staged.cleanup();
  }
  const now = deps.clock.now().toISOString();
  const { store } = deps;
  await store.tx(async (db) => {
    for (const f of staged.files)
      await db
        .insert(store.t.datasetFiles)
        .values({ datasetId: ref.row.id, path: f.path, modifiedBy: principal.userId, modifiedAt: now })
        .onConflictDoUpdate({
          target: [store.t.datasetFiles.datasetId, store.t.datasetFiles.path],
          set: { modifiedBy: principal.userId, modifiedAt: now },
        });
    await db.update(store.t.datasets).set({ updatedAt: now }).where(eq(store.t.datasets.id, ref.row.id));
  });
  const items = staged.files.map((f) => ({ path: f.path, size: f.size }));
  return { items, total: items.length };
}

export async function downloadFile(deps: Deps, principal: Principal, ws: string, ds: string, path: string) {
  const ref = await datasetFor(deps, principal, ws, ds);
  const name = path.split("/").pop() as string;
  return fileResponse(ref.dir, path, { "content-disposition": `attachment; filename="${name}"` });
}

export async function deleteFile(
  deps: Deps,
  principal: Principal,
  ws: string,
  ds: string,
  path: string,
): Promise<void> {
  const ref = await datasetFor(deps, principal, ws, ds);
  requireWrite(principal, ref, "delete files");
  await removeFile(ref.dir, path, rootDeleter(deps));
  await deps.store.tx((db) =>
    db
      .delete(deps.store.t.datasetFiles)
      .where(and(eq(deps.store.t.datasetFiles.datasetId, ref.row.id), eq(deps.store.t.datasetFiles.path, path))),
  );
}
