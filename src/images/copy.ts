// Bringing an image to a node's engine before a container starts there: pulled on the node when
// it comes from a registry, else (or when that pull fails: offline labs have no registry, or the
// registry's tag moved) the master's copy streamed across (`docker save` → `docker load`).
// Hangar images travel by their immutable ID: the node must end with the master's image ID.
import { engineMessage, type ImageEngine } from "../executor/port";

export interface NodeImage {
  /** The reference (tag) the image is known by. */
  ref: string;
  /** The master's image ID (sha256:…) the job runs, when Hangar knows it. */
  id: string | null;
  /** Whether the node may pull `ref` from its registry. */
  pullable: boolean;
  say?: (line: string) => void;
}

/** Makes the image present on `node` (by ID when known); returns what was done, for the job log. */
export async function ensureOnNode(
  master: ImageEngine,
  node: ImageEngine,
  image: NodeImage,
): Promise<"present" | "pulled" | "copied"> {
  const { ref, id, pullable } = image;
  const say = image.say ?? (() => {});
  const wanted = id ?? (await master.inspect(ref))?.id ?? null;
  const onNode = async () => {
    const info = await node.inspect(id ?? ref);
    return info !== null && (wanted === null || info.id === wanted);
  };
  // The node's tag follows the master's image (a container may be created by the reference).
  const tagOnNode = async () => {
    if (!wanted || ref.includes("@") || (await node.inspect(ref))?.id === wanted) return;
    const at = ref.lastIndexOf(":");
    const named = at > ref.lastIndexOf("/") ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, "latest"];
    await node.tag(wanted, named[0] as string, named[1] as string);
  };
  if (await onNode()) {
    await tagOnNode();
    return "present";
  }
  if (pullable) {
    say(`image ${ref} is not on the node: pulling it there`);
    try {
      await node.pull(ref);
      if (await onNode()) return "pulled";
      say(`the registry's ${ref} is not the image the master has: copying the master's image instead`);
    } catch (err) {
      say(`pull on the node failed (${engineMessage(err)}): copying the master's image instead`);
    }
  } else say(`image ${ref} is not on the node: copying it from the master (docker save | docker load)`);
  if (!wanted) throw new Error(`image ${ref} is not on the master to copy`);
  // Saved by ID: the tar carries no tag, so the load applies none; the node's tag is set below.
  const saved = await master.save(wanted);
  try {
    await node.load(saved);
  } finally {
    saved.destroy(); // a failed load would leave the master's `docker save` stream open
  }
  const info = await node.inspect(wanted);
  if (info?.id !== wanted) throw new Error(`image ${ref} (${wanted}) still missing on the node after docker load`);
  const at = ref.lastIndexOf(":");
  const tagged =
    at > ref.lastIndexOf("/") ? { repo: ref.slice(0, at), tag: ref.slice(at + 1) } : { repo: ref, tag: "latest" };
  if (!ref.includes("@")) await node.tag(wanted, tagged.repo, tagged.tag);
  return "copied";
}
