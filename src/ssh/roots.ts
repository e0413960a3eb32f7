// The folders a job's SFTP session sees, as mounted in its container.
import { and, eq } from "drizzle-orm";
import { datasetDir } from "../datasets/storage";
import type { Deps } from "../deps";
import { codeDir, trainingDir } from "../trainings/service";
import type { SftpRoot } from "./sftp";

export async function jobRoots(deps: Deps, jobId: string): Promise<SftpRoot[]> {
  const { store } = deps;
  const [job] = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId));
  if (!job) throw new Error(`no job ${jobId}`);
  const [training] = await store.db.select().from(store.t.trainings).where(eq(store.t.trainings.id, job.trainingId));
  if (!training) throw new Error(`no training for job ${jobId}`);
  const roots: SftpRoot[] = [
    { prefix: "/code", dir: codeDir(deps.config.dataDir, job.workspace, training.name), readOnly: false },
    {
      prefix: "/output",
      dir: `${trainingDir(deps.config.dataDir, job.workspace, training.name)}/jobs/${job.id}/output`,
      readOnly: false,
    },
  ];
  if (job.dataset) {
    const [ds] = await store.db
      .select()
      .from(store.t.datasets)
      .where(and(eq(store.t.datasets.workspace, job.workspace), eq(store.t.datasets.name, job.dataset)));
    if (ds)
      roots.push({
        prefix: "/dataset",
        dir: datasetDir(deps.config.dataDir, job.workspace, ds.name),
        readOnly: ds.access === "read-only",
      });
  }
  return roots;
}
