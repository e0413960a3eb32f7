// A training's code folder (mounted at /code): upload, list, download, delete, with the same
// name rules, streaming and all-or-nothing placement as datasets.
import { rm } from "node:fs/promises";
import type { Principal } from "../auth/cache";
import type { UploadedFiles } from "../datasets/model";
import { checkRelative, existingFile, placeFile, resolveInside, walkFiles } from "../datasets/storage";
import { stageUpload } from "../datasets/upload";
import type { Deps } from "../deps";
import { dataLayout } from "../lib/layout";
import { requireNotExpired } from "../workspaces/access";
import type { CodeFilePage } from "./model";
import { trainingFor } from "./service";

const MAX_CODE_BYTES = 10 * 1024 ** 3;

export async function uploadCode(
  deps: Deps,
  principal: Principal,
  ws: string,
  tr: string,
  request: Request,
  prefix?: string,
): Promise<UploadedFiles> {
  const ref = await trainingFor(deps, principal, ws, tr);
  requireNotExpired(deps, ref.ws.row, "uploading code");
  const root = dataLayout(deps.config.dataDir).code(ws, tr);
  const folder = prefix?.replace(/^\/+|\/+$/g, "");
  if (folder) checkRelative("path", folder);
  const staged = await stageUpload(
    request,
    dataLayout(deps.config.dataDir).staging,
    { maxBytes: MAX_CODE_BYTES, maxFiles: 10_000 },
    prefix,
  );
  try {
    const targets = await Promise.all(staged.files.map((f) => resolveInside(root, f.path, "files")));
    for (const [i, f] of staged.files.entries()) await placeFile(f.staged, targets[i] as string, f.path);
  } finally {
    await staged.cleanup();
  }
  const items = staged.files.map((f) => ({ path: f.path, size: f.size }));
  return { items, total: items.length };
}

export async function listCode(deps: Deps, principal: Principal, ws: string, tr: string): Promise<CodeFilePage> {
  await trainingFor(deps, principal, ws, tr);
  const items = (await walkFiles(dataLayout(deps.config.dataDir).code(ws, tr))).map((f) => ({
    ...f,
    type: "file" as const,
  }));
  return { items, total: items.length };
}

export async function downloadCode(deps: Deps, principal: Principal, ws: string, tr: string, path: string) {
  await trainingFor(deps, principal, ws, tr);
  const full = await existingFile(dataLayout(deps.config.dataDir).code(ws, tr), path);
  return new Response(Bun.file(full), {
    headers: { "content-type": Bun.file(full).type || "application/octet-stream" },
  });
}

export async function deleteCode(deps: Deps, principal: Principal, ws: string, tr: string, path: string) {
  await trainingFor(deps, principal, ws, tr);
  await rm(await existingFile(dataLayout(deps.config.dataDir).code(ws, tr), path), { force: true });
}
