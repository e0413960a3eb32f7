// The folders a job's SFTP session sees: its mounts, as its container sees them (jobMounts).
import { eq } from "drizzle-orm";
import type { Deps } from "../deps";
import type { Mount } from "../executor/spec";
import { mountSources } from "../jobs/runner";
import { jobMounts } from "../jobs/spec";
import { dataLayout } from "../lib/layout";
import type { SftpRoot } from "./sftp";

export async function jobRoots(deps: Deps, jobId: string): Promise<SftpRoot[]> {
  const { store } = deps;
  const [job] = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId));
  if (!job) throw new Error(`no job ${jobId}`);
  return sftpRoots(jobMounts(dataLayout(deps.config.dataDir), await mountSources(deps, job)));
}

/** A container's mounts as SFTP roots: the same folders at the same paths, read-only alike. */
export function sftpRoots(mounts: Mount[]): SftpRoot[] {
  return mounts.map((m) => ({ prefix: m.target, dir: m.source, readOnly: m.readOnly === true }));
}
