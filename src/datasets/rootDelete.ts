// Deleting what a job wrote as root. The master runs as its own user (installer); job containers
// run as root, so a folder a job makes in a dataset, a code folder or /output is root's, and the
// master may not remove what is inside it (EACCES/EPERM). Then the delete is done by a short-lived
// container on the master's own engine, as root with DAC_OVERRIDE/FOWNER only, no network, a
// read-only image: the bind source is a folder the master made and a job cannot replace (a
// dataset's or code folder's root, a trash entry: a job only ever sees their contents), and the
// member-controlled rest of the path is resolved inside the container, where a planted symlink
// leads into the container, never to the host. The image is one already on the master's engine
// that an admin stands behind: the configured default image, then global images that are ready.
// When the master runs as root none of this is needed: the error never comes.
import { readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { Semaphore } from "../auth/limits";
import type { Deps } from "../deps";
import { engineMessage } from "../executor/port";
import { ConfinedFsError, withDir } from "../lib/confinedFs";
import { dataLayout } from "../lib/layout";

/** Deletes `rels` (relative paths under `root`, a master-owned folder) as root; true when all are gone. */
export type RootDelete = (root: string, rels: string[], recursive: boolean) => Promise<boolean>;

const MOUNT = "/t";
/** Candidate images tried, at most. */
const MAX_IMAGES = 3;
/** Paths per container (an argv must stay well under the kernel's limit). */
const BATCH = 500;

const chosen = new WeakMap<Deps, string>();
/** A member hammering deletes gets a few containers at a time, and a 403 past the queue. */
const containers = new Semaphore(4, 64);

/** The deleter for `deps`, or undefined when the master runs as root (nothing to fall back to). */
export function rootDeleter(deps: Deps): RootDelete | undefined {
  if (process.getuid?.() === 0) return undefined;
  return (root, rels, recursive) => deleteAsRoot(deps, root, rels, recursive);
}

export function isPermissionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EACCES" || code === "EPERM";
}

/** Images to try, by Docker ID (a tag moved meanwhile cannot swap the image). */
async function candidates(deps: Deps): Promise<string[]> {
  const engine = deps.nodes.masterImages();
  const { store } = deps;
  const refs: string[] = [];
  const known = chosen.get(deps);
  if (known) refs.push(known);
  refs.push(deps.config.defaultImage);
  const rows = await store.db
    .select({ dockerId: store.t.images.dockerId, reference: store.t.images.reference })
    .from(store.t.images)
    .where(and(eq(store.t.images.status, "ready"), eq(store.t.images.release, "global")))
    .catch(() => []);
  for (const r of rows) refs.push(r.dockerId ?? r.reference);
  const ids: string[] = [];
  for (const ref of refs) {
    if (ids.length >= MAX_IMAGES) break;
    const info = await engine.inspect(ref).catch(() => null);
    if (info && !ids.includes(info.id)) ids.push(info.id);
  }
  return ids;
}

function allGone(root: string, rels: string[]): boolean {
  try {
    return withDir(root, (dir) =>
      rels.every((rel) => {
        try {
          dir.lstat(rel);
          return false;
        } catch (err) {
          // Gone, or a link is now in the way: then the container removed nothing outside either.
          return err instanceof ConfinedFsError && err.code === "ENOENT";
        }
      }),
    );
  } catch (err) {
    return (err as ConfinedFsError).code === "ENOENT"; // the root itself went meanwhile
  }
}

/** One container: `rm -f[r] -- /t/<rel>…` with `root` at /t; its exit code. */
async function runRm(deps: Deps, image: string, root: string, rels: string[], recursive: boolean): Promise<number> {
  const exec = deps.nodes.masterExecutor();
  const { id } = await exec.start({
    name: `hangar-delete-${crypto.randomUUID().slice(0, 12)}`,
    image,
    entrypoint: ["/bin/rm"],
    command: [recursive ? "-rf" : "-f", "--", ...rels.map((r) => `${MOUNT}/${r}`)],
    user: "0:0",
    mounts: [{ source: root, target: MOUNT }],
    networkNone: true,
    readOnlyRootfs: true,
    capabilities: ["DAC_OVERRIDE", "FOWNER"],
    cpus: 1,
    memoryMiB: 256,
    shmMiB: 1,
    pidsLimit: 64,
    labels: { "hangar.purpose": "delete" },
  });
  try {
    return await exec.waitExit(id);
  } finally {
    await exec.remove(id).catch(() => {});
  }
}

/** Deletes `rels` under `root` through a root container; false (logged) when it could not. */
export async function deleteAsRoot(deps: Deps, root: string, rels: string[], recursive: boolean): Promise<boolean> {
  if (rels.length === 0) return true;
  const done = await containers.run(() => tryImages(deps, root, rels, recursive));
  if (done === null) deps.logger.warn("deleting files a job wrote: too many waiting", { root });
  return done ?? false;
}

async function tryImages(deps: Deps, root: string, rels: string[], recursive: boolean): Promise<boolean> {
  let images: string[];
  try {
    images = await candidates(deps);
  } catch (err) {
    deps.logger.warn("deleting files a job wrote: no image", { root, err: engineMessage(err) });
    return false;
  }
  if (images.length === 0) {
    deps.logger.warn("deleting files a job wrote: no image on the master's engine to run rm in", { root });
    return false;
  }
  for (const image of images) {
    try {
      let code = 0;
      for (let i = 0; i < rels.length; i += BATCH) {
        code = Math.max(code, await runRm(deps, image, root, rels.slice(i, i + BATCH), recursive));
      }
      if (allGone(root, rels)) {
        chosen.set(deps, image);
        return true;
      }
      // 126/127: no /bin/rm to run in that image (Docker's exit codes for it); the next is tried.
      const why = code === 126 || code === 127 ? "the image has no usable /bin/rm" : "rm left them";
      deps.logger.warn(`deleting files a job wrote: ${why}`, { root, image: image.slice(0, 19), code });
    } catch (err) {
      deps.logger.warn("deleting files a job wrote: the container failed", {
        root,
        image: image.slice(0, 19),
        err: engineMessage(err),
      });
    }
    if (chosen.get(deps) === image) chosen.delete(deps);
  }
  return false;
}

const TRASH = /^trash-[0-9a-f-]{36}$/;
const sweeps = new WeakMap<Deps, { running: Promise<void>; again: boolean }>();

/**
 * Empties the staging trash (deleted datasets renamed aside): through descriptors, and what a job
 * made as root through `deleteAsRoot`. Sweeps never overlap; one asked for during a sweep runs
 * after it, and the promise answers once the trash has been swept since the call.
 */
export function sweepTrash(deps: Deps): Promise<void> {
  const current = sweeps.get(deps);
  if (current) {
    current.again = true;
    return current.running;
  }
  const state = { running: Promise.resolve(), again: false };
  state.running = (async () => {
    try {
      do {
        state.again = false;
        await sweepOnce(deps).catch((err) => deps.logger.warn("sweeping the staging trash", { err }));
      } while (state.again);
    } finally {
      sweeps.delete(deps);
    }
  })();
  sweeps.set(deps, state);
  return state.running;
}

async function sweepOnce(deps: Deps): Promise<void> {
  const staging = dataLayout(deps.config.dataDir).staging;
  let names: string[];
  try {
    names = readdirSync(staging).filter((n) => TRASH.test(n));
  } catch {
    return;
  }
  const fallback = rootDeleter(deps);
  for (const name of names) {
    const entry = join(staging, name);
    try {
      await emptyEntry(entry, fallback);
    } catch (err) {
      deps.logger.warn("a trash entry stays", { entry, err });
    }
  }
}

async function emptyEntry(entry: string, fallback: RootDelete | undefined): Promise<void> {
  try {
    withDir(entry, (dir) => dir.removeTree("."));
  } catch (err) {
    if ((err as ConfinedFsError).code === "ENOENT") return;
    if (!isPermissionError(err) || !fallback) throw err;
    // What is left is root's: its top-level names go to the container (the entry is the master's).
    const left = withDir(entry, (dir) => dir.readdir().map((e) => e.name));
    if (!(await fallback(entry, left, true))) throw err;
  }
  try {
    rmdirSync(entry);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
