// Dataset files on disk (where: lib/layout). Every path from a client is checked by
// domain/paths; the file work itself goes through lib/confinedFs (descriptors, no link followed
// at any component), so a job swapping a folder for a link cannot redirect it.
import type { Stats } from "node:fs";
import { lstat, mkdir, rename, rmdir } from "node:fs/promises";
import { join, sep } from "node:path";
import { badRequest, conflict, forbidden, notFound } from "../domain/errors";
import { relativePathProblem } from "../domain/paths";
import { ConfinedDir, ConfinedFsError, fdStream, withDir } from "../lib/confinedFs";
import type { RootDelete } from "./rootDelete";

export function checkRelative(field: string, path: string): string {
  const problem = relativePathProblem(path);
  if (problem) throw badRequest(field, `${printable(path)}: ${problem}`, "invalid_path");
  return path;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

/**
 * Diagnosis only, never the path to act on (it may change right after): the absolute path of
 * `rel` under `root`, refusing any existing component that is a symlink
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

/**
 * Every regular file under `root` (symlinks and other special files are skipped). Walked
 * through descriptors (lib/confinedFs): a folder swapped for a link mid-walk is not entered.
 */
export async function walkFiles(root: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  let top: ConfinedDir;
  try {
    top = ConfinedDir.open(root);
  } catch {
    return out;
  }
  let seen = 0;
  const visit = async (dir: ConfinedDir, prefix: string) => {
    let entries: ReturnType<ConfinedDir["readdir"]>;
    try {
      entries = dir.readdir();
    } catch {
      return;
    }
    for (const e of entries) {
      // A big tree must not hold the event loop for the whole walk.
      if (++seen % 512 === 0) await new Promise((r) => setImmediate(r));
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.type === "dir") {
        let sub: ConfinedDir;
        try {
          sub = dir.dir(e.name);
        } catch {
          continue;
        }
        try {
          await visit(sub, path);
        } finally {
          sub.close();
        }
      } else if (e.type === "file") {
        let s: Stats;
        try {
          s = dir.lstat(e.name);
        } catch {
          continue;
        }
        if (s.isFile()) out.push({ path, size: s.size, modifiedAt: s.mtime.toISOString() });
      }
    }
  };
  try {
    await visit(top, "");
  } finally {
    top.close();
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export async function bytesUnder(root: string): Promise<number> {
  return (await walkFiles(root)).reduce((s, f) => s + f.size, 0);
}

/**
 * The client's error for a failed confined operation on `rel`: the same answers the checks by
 * name give (400 for a link in the way, 409 for a file where a folder goes, 404 when missing).
 */
async function explain(err: unknown, root: string, rel: string, field: string): Promise<never> {
  if (!(err instanceof ConfinedFsError)) throw err;
  await resolveInside(root, rel, field); // throws the precise message when the cause is still there
  if (err.code === "ELOOP" || err.code === "EXDEV" || err.code === "EINVAL")
    throw badRequest(field, `${rel}: a symbolic link is in the way`, "invalid_path");
  if (err.code === "ENOTDIR" || err.code === "EISDIR" || err.code === "EEXIST" || err.code === "ENOTEMPTY") {
    const message = `${rel}: a file and a folder would have the same name`;
    if (field === "files") throw conflict(message, "name_clash", field);
    throw badRequest(field, message, "invalid_path");
  }
  if (err.code === "ENOENT") throw notFound(`file ${rel}`);
  // The master runs as its own user (installer): a folder a job made as root is not its to change
  // (deletes go through datasets/rootDelete; this answers when that could not either).
  if (err.code === "EACCES" || err.code === "EPERM")
    throw forbidden(`${rel}: a job created this as another user; the master may not change it`);
  throw err;
}

/** A stored regular file, opened for reading without following any link; the caller closes `fd`. */
export async function openExisting(root: string, rel: string): Promise<{ fd: number; size: number }> {
  checkRelative("path", rel);
  try {
    const { fd, stat } = withDir(root, (dir) => dir.openRead(rel));
    return { fd, size: stat.size };
  } catch (err) {
    if (err instanceof ConfinedFsError && (err.code === "EISDIR" || err.code === "EINVAL"))
      throw notFound(`file ${rel}`);
    return explain(err, root, rel, "path");
  }
}

/** The file at `rel` as a download: streamed from a descriptor opened without following links. */
export async function fileResponse(root: string, rel: string, headers: Record<string, string> = {}): Promise<Response> {
  const { fd, size } = await openExisting(root, rel);
  return new Response(fdStream(fd, size), {
    headers: {
      "content-type": Bun.file(rel).type || "application/octet-stream",
      "content-length": String(size),
      ...headers,
    },
  });
}

/**
 * Deletes the stored file `rel` (a link there is removed itself; a folder is refused). In a
 * folder a job made as root, the master (not root) may not: then `asRoot` (datasets/rootDelete)
 * does it, when given.
 */
export async function removeFile(root: string, rel: string, asRoot?: RootDelete): Promise<void> {
  checkRelative("path", rel);
  try {
    withDir(root, (dir) => {
      if (!dir.lstat(rel).isFile()) throw new ConfinedFsError("EISDIR", 21, "unlink");
      dir.unlink(rel);
    });
  } catch (err) {
    if (err instanceof ConfinedFsError && (err.code === "EISDIR" || err.code === "ENOENT")) {
      await resolveInside(root, rel); // a link in the way is still a 400
      throw notFound(`file ${rel}`);
    }
    if (asRoot && err instanceof ConfinedFsError && (err.code === "EACCES" || err.code === "EPERM")) {
      if (await asRoot(root, [rel], false)) return;
    }
    return explain(err, root, rel, "path");
  }
}

/**
 * Moves staged files (paths the master owns) into place under `root`, making their folders;
 * every folder is made and entered through descriptors, so a link swapped in is never followed.
 */
export async function placeFiles(root: string, files: { staged: string; path: string }[]): Promise<void> {
  const dir = ConfinedDir.open(root);
  try {
    for (const f of files) {
      try {
        const slash = f.path.lastIndexOf("/");
        if (slash < 0) dir.moveIn(f.staged, f.path);
        else {
          const parent = dir.mkdirp(f.path.slice(0, slash), 0o777);
          try {
            parent.moveIn(f.staged, f.path.slice(slash + 1));
          } finally {
            parent.close();
          }
        }
      } catch (err) {
        await explain(err, root, f.path, "files");
      }
    }
  } finally {
    dir.close();
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
  const gone = moved ? aside : path;
  // Emptied through descriptors: a job still holding the folder cannot redirect the delete.
  try {
    withDir(gone, (dir) => dir.removeTree("."));
    await rmdir(gone);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Folders a job made as root stay in the staging trash when the master is not root:
    // datasets/rootDelete's sweepTrash removes them.
    if (code !== "ENOENT" && code !== "EACCES" && code !== "EPERM") throw err;
  }
}
