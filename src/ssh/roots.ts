// The folders a job's SFTP session sees, as mounted in its container.
import { and, eq } from "drizzle-orm";
import type { Deps } from "../deps";
import { dataLayout } from "../lib/layout";
import type { SftpRoot } from "./sftp";

export async function jobRoots(deps: Deps, jobId: string): Promise<SftpRoot[]> {
  const { store } = deps;
  const [job] = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId));
  if (!job) throw new Error(`no job ${jobId}`);
  const [training] = await store.db.select().from(store.t.trainings).where(eq(store.t.trainings.id, job.trainingId));
  if (!training) throw new Error(`no training for job ${jobId}`);
  const layout = dataLayout(deps.config.dataDir);
  const roots: SftpRoot[] = [
    { prefix: "/code", dir: layout.code(job.workspace, training.name), readOnly: false },
    { prefix: "/output", dir: layout.jobOutput(job.workspace, training.name, job.id), readOnly: false },
  ];
  if (job.dataset) {
    const [ds] = await store.db
      .select()
      .from(store.t.datasets)
      .where(and(eq(store.t.datasets.workspace, job.workspace), eq(store.t.datasets.name, job.dataset)));
    if (ds)
      roots.push({
        prefix: "/dataset",
        dir: layout.dataset(job.workspace, ds.name),
        readOnly: ds.access === "read-only",
      });
  }
  return roots;
}
