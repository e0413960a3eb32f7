// Docker images (docs/product.md#images): pull, build, or load a tar on the master; release to everyone
// (global, admins only) or to chosen workspaces; status pending → ready | failed.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { and, desc, eq, inArray, or } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import { stageUpload } from "../datasets/upload";
import type { Deps } from "../deps";
import { badRequest, conflict, forbidden, notFound } from "../domain/errors";
import { type Executor, engineMessage, type ImageEngine } from "../executor/port";
import { dataLayout } from "../lib/layout";
import type { Tables } from "../store/store";
import { workspaceFor } from "../workspaces/access";
import { ensureOnNode } from "./copy";
import type { CreateImageBody, Image, ImagePage } from "./model";
import { untaggedTar } from "./tarTags";

type ImageRow = Tables["images"]["$inferSelect"];
type ImageInsert = Tables["images"]["$inferInsert"];
export type ImageSource =
  | { type: "pull"; ref: string }
  | { type: "build"; dockerfile: string; context?: "upload" }
  | { type: "tar" };

const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$/;
const REFERENCE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const MAX_TAR_BYTES = 200 * 1024 ** 3;

/** The master's engine, where images are pulled, built and loaded. */
const masterImages = (deps: Deps): ImageEngine => deps.nodes.masterImages();
const ownRepo = (id: string) => `hangar-image/${id}`;
const ownTag = (id: string) => `${ownRepo(id)}:latest`;

/**
 * Whether an ADD (or ONBUILD ADD) names a URL: Docker's daemon fetches those itself, on the
 * master's host network, where `networkmode: none` does not reach. Continuation lines are joined
 * (either escape character; comment and blank lines dropped) and the test is deliberately broad:
 * any "://" in an ADD's arguments.
 */
function fetchesUrl(dockerfile: string): boolean {
  // Comment and blank lines may sit inside a continuation: drop them before joining.
  const lines = dockerfile.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const joined = lines.join("\n").replace(/[\\`]\s*\n/g, " ");
  // A variable may hold a URL (ENV U=http://…, ADD $U /x): an ADD with one is refused too.
  return joined
    .split(/\r?\n/)
    .some((line) => /^\s*(onbuild\s+)?add\s/i.test(line) && (line.includes("://") || line.includes("$")));
}

function parseSource(s: CreateImageBody["source"]): ImageSource {
  switch (s.type) {
    case "pull": {
      const ref = (s.ref ?? "").trim();
      if (
        !ref ||
        ref.length > 255 ||
        !REFERENCE.test(ref.replace(/^([^/]+\.[^/]+|localhost(:\d+)?|[\d.]+(:\d+)?)\//, "x/"))
      )
        throw badRequest("source.ref", "source.ref must be an image reference like registry:5000/team/image:tag");
      // Hangar's own tags name uploaded/built images: a pull must not move them.
      if (ref.startsWith("hangar-image/")) throw badRequest("source.ref", "hangar-image/ references are Hangar's own");
      return { type: "pull", ref };
    }
    case "build":
      if (!s.dockerfile?.trim()) throw badRequest("source.dockerfile", "a build needs the Dockerfile text");
      if (s.dockerfile.length > 100_000) throw badRequest("source.dockerfile", "the Dockerfile is longer than 100 kB");
      if (fetchesUrl(s.dockerfile))
        throw badRequest(
          "source.dockerfile",
          "ADD of a URL (or of a $variable) is not allowed: Docker would fetch it on the master's network; upload the file as build context and COPY it",
        );
      if (s.context !== undefined && s.context !== "upload")
        throw badRequest(
          "source.context",
          "source.context may only be 'upload' (the context tar comes to POST /api/images/:id/upload)",
        );
      return { type: "build", dockerfile: s.dockerfile, ...(s.context ? { context: "upload" as const } : {}) };
    case "tar":
      return { type: "tar" };
    default:
      throw badRequest("source.type", "source.type must be pull, build or tar");
  }
}

export async function createImage(deps: Deps, principal: Principal, input: CreateImageBody): Promise<Image> {
  if (!IMAGE_NAME.test(input.name))
    throw badRequest("name", "name must be 1–20 characters of letters, digits, '.', '_' or '-'");
  const description = input.description ?? "";
  if (description.length > 200) throw badRequest("description", "description must be at most 200 characters");
  const source = parseSource(input.source);
  if (input.release !== "global" && input.release !== "workspace")
    throw badRequest("release", "release must be global or workspace");
  if (input.release === "global" && principal.role !== "admin")
    throw forbidden("only an admin releases images to everyone; release it to your workspaces instead");
  const workspaces = [...new Set(input.workspaces ?? [])];
  if (input.release === "workspace") {
    if (workspaces.length === 0) throw badRequest("workspaces", "name at least one workspace to release the image to");
    for (const ws of workspaces)
      await workspaceFor(deps, principal, ws).catch(() => {
        throw badRequest("workspaces", `no workspace ${ws} that you belong to`);
      });
  }
  const id = crypto.randomUUID().slice(0, 12);
  const now = deps.clock.now().toISOString();
  const waitsForUpload = source.type === "tar" || (source.type === "build" && source.context !== undefined);
  const row: ImageInsert = {
    id,
    name: input.name,
    description,
    sourceType: source.type,
    source: source.type === "pull" ? source.ref : source.type === "build" ? source.dockerfile : "",
    reference: source.type === "pull" ? source.ref : ownTag(id),
    release: input.release,
    status: "pending",
    stage: waitsForUpload ? "upload" : "queued",
    statusReason: waitsForUpload ? "waiting for the upload (POST /api/images/:id/upload)" : "queued",
    uploader: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.tx(async (db) => {
    await db.insert(deps.store.t.images).values(row);
    if (input.release === "workspace")
      await db.insert(deps.store.t.imageWorkspaces).values(workspaces.map((workspace) => ({ imageId: id, workspace })));
  });
  // The answer is the image as created (pending): read before the work starts, which can finish
  // first (a pull of cached layers takes milliseconds).
  const created = await imageView(deps, id);
  if (source.type === "pull" || (source.type === "build" && !source.context))
    void prepare(deps, id, null).catch((err) => deps.logger.warn("preparing an image failed", { image: id, err }));
  return created;
}

/** Runs the pull/build/load; the image ends ready or failed with Docker's message. */
export async function prepare(deps: Deps, id: string, uploadedTar: string | null): Promise<void> {
  const row = await findRow(deps, id);
  await setStatus(deps, id, {
    status: "pending",
    stage: "preparing",
    statusReason: `${row.sourceType === "pull" ? "pulling" : row.sourceType === "build" ? "building" : "loading"} on the master`,
  });
  const images = masterImages(deps);
  try {
    if (row.sourceType === "pull") await images.pull(row.reference);
    else if (row.sourceType === "build") await buildFrom(deps, images, row, uploadedTar);
    else {
      // No tag from the tar may land (it could name another tenant's image): strip, load, tag by ID.
      const loaded = await images.loadFile(await untaggedTar(uploadedTar as string));
      if (!loaded.startsWith("sha256:")) throw new Error(`docker load applied a tag (${loaded}) to a stripped tar`);
      await images.tag(loaded, ownRepo(row.id), "latest");
    }
    const info = await images.inspect(row.reference);
    if (!info) throw new Error(`image ${row.reference} is not in Docker after the ${row.sourceType}`);
    await setStatus(deps, id, {
      status: "ready",
      stage: null,
      statusReason: null,
      sizeBytes: info.size,
      dockerId: info.id,
    });
  } catch (err) {
    await setStatus(deps, id, { status: "failed", stage: null, statusReason: engineMessage(err) });
  }
}

async function buildFrom(deps: Deps, images: ImageEngine, row: ImageRow, contextTar: string | null) {
  const dir = join(dataLayout(deps.config.dataDir).staging, `build-${row.id}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    if (contextTar) {
      // GNU tar refuses absolute names and '..' members by default.
      const p = Bun.spawn(["tar", "-xf", contextTar, "-C", dir, "--no-same-owner"], { stderr: "pipe" });
      if ((await p.exited) !== 0)
        throw new Error(`the build context is not a tar: ${(await new Response(p.stderr).text()).trim()}`);
    }
    await Bun.write(join(dir, "Dockerfile"), row.source);
    await images.build(dir, await listFiles(dir), row.reference);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

/** POST /api/images/:id/upload: the `docker save` tar (type tar) or the build context (type build). */
export async function uploadImageFile(deps: Deps, principal: Principal, id: string, request: Request): Promise<Image> {
  const row = await visibleRow(deps, principal, id);
  if (row.uploader !== principal.userId && principal.role !== "admin")
    throw forbidden("only the uploader can send its files");
  // A tar or an uploaded build context is taken while the image waits for it, or to retry a failure.
  const takesUploads = row.sourceType !== "pull";
  const waits = takesUploads && ((row.status === "pending" && row.stage === "upload") || row.status === "failed");
  if (!waits) throw conflict(`image ${row.name} does not wait for an upload (it is ${row.status})`, "not_waiting");
  const staged = await stageUpload(request, dataLayout(deps.config.dataDir).staging, {
    maxBytes: MAX_TAR_BYTES,
    maxFiles: 1,
    stagingMaxBytes: deps.config.stagingMiB * 1024 * 1024,
    field: "file",
  });
  try {
    await prepare(deps, id, staged.files[0]?.staged as string);
  } finally {
    await staged.cleanup();
  }
  return imageView(deps, id);
}

async function setStatus(deps: Deps, id: string, set: Partial<ImageRow>) {
  await deps.store.tx((db) =>
    db
      .update(deps.store.t.images)
      .set({ ...set, updatedAt: deps.clock.now().toISOString() })
      .where(eq(deps.store.t.images.id, id)),
  );
}

async function findRow(deps: Deps, id: string): Promise<ImageRow> {
  const [row] = await deps.store.db.select().from(deps.store.t.images).where(eq(deps.store.t.images.id, id)).limit(1);
  if (!row) throw notFound(`image ${id}`);
  return row;
}

/** Workspaces the caller belongs to (as manager or member). */
async function myWorkspaces(deps: Deps, principal: Principal): Promise<string[]> {
  const { store } = deps;
  const managed = await store.db
    .select({ name: store.t.workspaces.name })
    .from(store.t.workspaces)
    .where(eq(store.t.workspaces.manager, principal.userId));
  const member = await store.db
    .select({ name: store.t.workspaceUsers.workspace })
    .from(store.t.workspaceUsers)
    .where(eq(store.t.workspaceUsers.userId, principal.userId));
  return [...new Set([...managed, ...member].map((r) => r.name))];
}

async function visibleRow(deps: Deps, principal: Principal, id: string): Promise<ImageRow> {
  const row = await findRow(deps, id);
  if (principal.role === "admin" || row.release === "global" || row.uploader === principal.userId) return row;
  const mine = await myWorkspaces(deps, principal);
  const [hit] = mine.length
    ? await deps.store.db
        .select()
        .from(deps.store.t.imageWorkspaces)
        .where(and(eq(deps.store.t.imageWorkspaces.imageId, id), inArray(deps.store.t.imageWorkspaces.workspace, mine)))
        .limit(1)
    : [];
  if (!hit) throw notFound(`image ${id}`);
  return row;
}

async function imageView(deps: Deps, id: string): Promise<Image> {
  const row = await findRow(deps, id);
  const ws = await deps.store.db
    .select({ workspace: deps.store.t.imageWorkspaces.workspace })
    .from(deps.store.t.imageWorkspaces)
    .where(eq(deps.store.t.imageWorkspaces.imageId, id));
  return toView(row, ws.map((w) => w.workspace).sort());
}

function toView(row: ImageRow, workspaces: string[]): Image {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    source:
      row.sourceType === "pull"
        ? { type: "pull", ref: row.source }
        : row.sourceType === "build"
          ? { type: "build", dockerfile: row.source }
          : { type: "tar" },
    reference: row.reference,
    release: row.release,
    workspaces,
    status: row.status,
    statusReason: row.statusReason,
    sizeBytes: row.sizeBytes,
    uploader: row.uploader,
    builtin: row.builtin,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function getImage(deps: Deps, principal: Principal, id: string): Promise<Image> {
  await visibleRow(deps, principal, id);
  return imageView(deps, id);
}

/** Images the caller may use; with `workspace`, those usable in it (global + released to it). */
export async function listImages(
  deps: Deps,
  principal: Principal,
  options: { workspace?: string; limit: number; offset: number },
): Promise<ImagePage> {
  const { store } = deps;
  let scope: string[] | null;
  if (options.workspace) {
    await workspaceFor(deps, principal, options.workspace);
    scope = [options.workspace];
  } else scope = principal.role === "admin" ? null : await myWorkspaces(deps, principal);
  const released = scope?.length
    ? store.db
        .select({ id: store.t.imageWorkspaces.imageId })
        .from(store.t.imageWorkspaces)
        .where(inArray(store.t.imageWorkspaces.workspace, scope))
    : null;
  const where =
    scope === null
      ? undefined
      : released
        ? or(
            eq(store.t.images.release, "global"),
            inArray(store.t.images.id, released),
            options.workspace ? undefined : eq(store.t.images.uploader, principal.userId),
          )
        : or(eq(store.t.images.release, "global"), eq(store.t.images.uploader, principal.userId));
  const rows = await store.db
    .select()
    .from(store.t.images)
    .where(where)
    .orderBy(store.t.images.name, store.t.images.createdAt);
  const page = rows.slice(options.offset, options.offset + options.limit);
  const links = page.length
    ? await store.db
        .select()
        .from(store.t.imageWorkspaces)
        .where(
          inArray(
            store.t.imageWorkspaces.imageId,
            page.map((r) => r.id),
          ),
        )
    : [];
  const items = page.map((r) =>
    toView(
      r,
      links
        .filter((l) => l.imageId === r.id)
        .map((l) => l.workspace)
        .sort(),
    ),
  );
  return { items, total: rows.length };
}

export async function deleteImage(deps: Deps, principal: Principal, id: string): Promise<void> {
  const row = await visibleRow(deps, principal, id);
  if (row.uploader !== principal.userId && principal.role !== "admin")
    throw forbidden("only the uploader or an admin deletes an image");
  await deps.store.tx((db) => db.delete(deps.store.t.images).where(eq(deps.store.t.images.id, id)));
  // Hangar-built/loaded tags are ours to remove; pulled references may be shared with others.
  if (row.reference === ownTag(row.id))
    await masterImages(deps)
      .remove(row.reference)
      .catch(() => {});
}

/** Registers the built-in default image when it is missing (first start, `hangar images reinit`). */
export async function ensureDefaultImage(
  deps: Deps,
  options: { wait?: boolean } = {},
): Promise<{ created: boolean; id: string }> {
  const { store } = deps;
  const [existing] = await store.db.select().from(store.t.images).where(eq(store.t.images.builtin, true)).limit(1);
  if (existing) return { created: false, id: existing.id };
  const id = crypto.randomUUID().slice(0, 12);
  const now = deps.clock.now().toISOString();
  await store.tx((db) =>
    db.insert(store.t.images).values({
      id,
      name: "default",
      description: "Hangar's built-in default image",
      sourceType: "pull",
      source: deps.config.defaultImage,
      reference: deps.config.defaultImage,
      release: "global",
      status: "pending",
      stage: "queued",
      statusReason: "queued",
      uploader: "root",
      builtin: true,
      createdAt: now,
      updatedAt: now,
    }),
  );
  const ready = async () => {
    const info = await masterImages(deps)
      .inspect(deps.config.defaultImage)
      .catch(() => null);
    if (info)
      await setStatus(deps, id, {
        status: "ready",
        stage: null,
        statusReason: null,
        sizeBytes: info.size,
        dockerId: info.id,
      });
    else await prepare(deps, id, null);
  };
  if (options.wait) await ready();
  else void ready().catch((err) => deps.logger.warn("default image", { err }));
  return { created: true, id };
}

/**
 * Makes an image present on a node before a container starts there (pull, or copy from the
 * master). `image` is what a job runs: a Hangar image's Docker ID (sha256:…), or a reference.
 */
export async function ensureImageOnNode(
  deps: Deps,
  image: string,
  node: Executor,
  say: (line: string) => void = () => {},
): Promise<"present" | "pulled" | "copied"> {
  const { store } = deps;
  const [row] = await store.db
    .select()
    .from(store.t.images)
    .where(or(eq(store.t.images.dockerId, image), eq(store.t.images.reference, image)))
    .orderBy(desc(eq(store.t.images.dockerId, image)))
    .limit(1);
  // An image Hangar does not manage is copied from the master, never pulled from a registry.
  const pullable = row ? row.sourceType === "pull" : false;
  return ensureOnNode(masterImages(deps), node.images, {
    ref: row?.reference ?? image,
    id: row?.dockerId ?? (image.startsWith("sha256:") ? image : null),
    pullable,
    say,
  });
}

/** Images usable in a workspace: global ones and those released to it. */
export async function countWorkspaceImages(deps: Deps, workspace: string): Promise<number> {
  const { store } = deps;
  const released = store.db
    .select({ id: store.t.imageWorkspaces.imageId })
    .from(store.t.imageWorkspaces)
    .where(eq(store.t.imageWorkspaces.workspace, workspace));
  const rows = await store.db
    .select({ id: store.t.images.id })
    .from(store.t.images)
    .where(or(eq(store.t.images.release, "global"), inArray(store.t.images.id, released)));
  return rows.length;
}
