// A training's code folder (mounted at /code): upload, list, download, delete, with the same
// name rules, streaming and all-or-nothing placement as datasets.
import type { Principal } from "../auth/cache";
import type { UploadedFiles } from "../datasets/model";
import { rootDeleter } from "../datasets/rootDelete";
import {
  bytesUnder,
  checkRelative,
  fileResponse,
  placeFiles,
  removeFile,
  resolveInside,
  walkFiles,
} from "../datasets/storage";
import { stageUpload } from "../datasets/upload";
import type { Deps } from "../deps";
import { dataLayout } from "../lib/layout";
import { reserveSpace } from "../lib/quota";
import { requireNotExpired } from "../workspaces/access";
import type { CodeFilePage } from "./model";
import { trainingFor } from "./service";

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
  const quotaMiB = deps.config.codeQuotaMiB;
  // Reserved as the bytes stream in: concurrent uploads share the quota, never each take it all.
  const room = await reserveSpace(root, quotaMiB * 1024 * 1024, () => bytesUnder(root));
  let staged: Awaited<ReturnType<typeof stageUpload>>;
  try {
    staged = await stageUpload(
      request,
      dataLayout(deps.config.dataDir).staging,
      {
        maxBytes: quotaMiB * 1024 * 1024,
        maxFiles: 10_000,
        stagingMaxBytes: deps.config.stagingMiB * 1024 * 1024,
        take: (n) => room.take(n),
        quotaMessage: `the upload exceeds the training's code folder quota (HANGAR_CODE_QUOTA_MB: ${quotaMiB} MiB)`,
      },
      prefix,
    );
  } catch (err) {
    room.release();
    throw err;
  }
  try {
    await Promise.all(staged.files.map((f) => resolveInside(root, f.path, "files")));
    await room.land(() => placeFiles(root, staged.files));
  } finally {
    room.release();
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
  return fileResponse(dataLayout(deps.config.dataDir).code(ws, tr), path);
}

export async function deleteCode(deps: Deps, principal: Principal, ws: string, tr: string, path: string) {
  await trainingFor(deps, principal, ws, tr);
  await removeFile(dataLayout(deps.config.dataDir).code(ws, tr), path, rootDeleter(deps));
}
