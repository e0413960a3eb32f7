// This master's cluster id: made once in the data dir (cluster-id), it labels every container
// and built image the master makes (hangar.cluster), so two masters sharing a Docker Engine
// (tests, a staging master beside production) never sweep or remove each other's containers.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dataLayout } from "./layout";

export function clusterId(dataDir: string): string {
  const file = dataLayout(dataDir).clusterIdFile;
  const read = () => {
    try {
      return readFileSync(file, "utf8").trim() || null;
    } catch {
      return null;
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${crypto.randomUUID()}\n`, { flag: "wx", mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const made = read();
  if (!made) throw new Error(`${file} is empty`);
  return made;
}
