// Bringing an image to a node's engine before a container starts there: pulled on the node when
// it comes from a registry, else (or when that pull fails: offline labs have no registry) the
// master's copy streamed across (`docker save` → `docker load`).
import { engineMessage, type ImageEngine } from "../executor/port";

/** Makes `ref` present on `node`; returns what was done, for the job log. */
export async function ensureOnNode(
  master: ImageEngine,
  node: ImageEngine,
  ref: string,
  pullable: boolean,
  say: (line: string) => void = () => {},
): Promise<"present" | "pulled" | "copied"> {
  if (await node.inspect(ref)) return "present";
  if (pullable) {
    say(`image ${ref} is not on the node: pulling it there`);
    try {
      await node.pull(ref);
      return "pulled";
    } catch (err) {
      say(`pull on the node failed (${engineMessage(err)}): copying the master's image instead`);
    }
  } else say(`image ${ref} is not on the node: copying it from the master (docker save | docker load)`);
  const saved = await master.save(ref);
  try {
    await node.load(saved);
  } finally {
    saved.destroy(); // a failed load would leave the master's `docker save` stream open
  }
  if (!(await node.inspect(ref))) throw new Error(`image ${ref} still missing on the node after docker load`);
  return "copied";
}
