// Dataset files on disk (where: lib/layout). Every path from a client is
// checked by domain/paths and then resolved here without following symlinks out of the root.
import { lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { badRequest, conflict, notFound } from "../domain/errors";
import { relativePathProblem } from "../domain/paths";

export function checkRelative(field: string, path: string): string {
  const problem = relativePathProblem(path);
  if (problem) throw badRequest(field, `${printable(path)}: ${problem}`, "invalid_path");
  return path;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

/**
 * The absolute path of `rel` under `root`, refusing any existing component that is a symlink
 * (a job could have planted one in a read-write dataset) or a file where a folder is needed.
 */
export async function resolveInside(root: string, rel: string, field = "path"): Promise<string> {
  checkRelative(field, rel);
  const parts = rel.split("/");
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    current = join(current, parts[i] as string);
    const info = await lstat(current).catch(() => null);
    if (!info) break;
    if (info.isSymbolicLink()) throw badRequest(field, `${rel}: a symbolic link is in the way`, "invalid_path");
    if (i < parts.length - 1 && !info.isDirectory()) {
      const message = `${rel}: ${parts.slice(0, i + 1).join("/")} is a file, not a folder`;
      // Uploading there is a name clash with a stored file (409); any other use is a bad path.
      if (field === "files") throw conflict(message, "name_clash", field);
      throw badRequest(field, message, "invalid_path");
    }
  }
  const full = join(root, rel);
  if (!full.startsWith(root + sep)) throw badRequest(field, `${rel}: outside the dataset`, "invalid_path");
  return full;
}

export interface FileEntry {
  path: string;
  size: number;
  modifiedAt: string;
}

/** Every regular file under `root` (symlinks and other special files are skipped). */
export async function walkFiles(root: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const visit = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await visit(full);
      else if (e.isFile()) {
        const s = await stat(full).catch(() => null);
        if (s)
          out.push({
            path: relative(root, full).split(sep).join("/"),
            size: s.size,
            modifiedAt: s.mtime.toISOString(),
          });
      }
    }
  };
  await visit(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export async function bytesUnder(root: string): Promise<number> {
  return (await walkFiles(root)).reduce((s, f) => s + f.size, 0);
}

export async function existingFile(root: string, rel: string): Promise<string> {
  const full = await resolveInside(root, rel);
  const info = await lstat(full).catch(() => null);
  if (!info?.isFile()) throw notFound(`file ${rel}`);
  return full;
}

/** Moves a staged file into place (same file system: a rename), making its folders. */
export async function placeFile(staged: string, target: string, rel = target): Promise<void> {
  try {
    await mkdir(join(target, ".."), { recursive: true });
    await rename(staged, target);
  } catch (err) {
    // A file where a folder must go (or the reverse) is the client's name clash, not a 500.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST" || code === "ENOTEMPTY")
      throw conflict(`${rel}: a file and a folder would have the same name`, "name_clash", "files");
    throw err;
  }
}

/** Removes a tree by renaming it aside first, so a half-deleted dataset is never visible. */
export async function removeTree(path: string, trashRoot: string): Promise<void> {
  await mkdir(trashRoot, { recursive: true });
  const aside = join(trashRoot, `trash-${crypto.randomUUID()}`);
  const moved = await rename(path, aside).then(
    () => true,
    () => false,
  );
  await rm(moved ? aside : path, { recursive: true, force: true });
}
