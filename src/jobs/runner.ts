// Effects of running a placed job: make the image present on its nodes, start one container
// per node, store every log line as it arrives, wait for the exit and record the outcome.
// Also re-follows jobs found running after a master restart.
import { cp, mkdir } from "node:fs/promises";
import { and, eq, inArray } from "drizzle-orm";
import { findBuiltinModel } from "../builtin/catalogue";
import type { Deps } from "../deps";
import type { PlacedAssignment } from "../domain/jobSpec";
import type { JobState } from "../domain/jobState";
import { EngineError, type Executor, engineMessage } from "../executor/port";
import { type ContainerSpec, JOB_LABEL, type Mount } from "../executor/spec";
import { ensureImageOnNode } from "../images/service";
import { type DataLayout, dataLayout } from "../lib/layout";
import { Mutex } from "../lib/mutex";
import { fractionalGpus, withMps } from "../nodes/mps";
import { nodeExecutor, nodeServicePort, runOnNode, startMps } from "../nodes/service";
import { jobKind } from "./kinds";
import {
  interconnect,
  LISTENING_PORTS_SCRIPT,
  listeningPorts,
  pickRendezvousPort,
  RENDEZVOUS_PORTS,
  rankEndReason,
} from "./rendezvous";
import { jobContainers, jobMounts, type MountSources, type NodeNet, rdmaProblem } from "./spec";
import { finishOutput } from "./staging/copyBack";
import { stageMounts } from "./staging/stageIn";
import { type JobRow, moveJob, StaleJobState } from "./transitions";

export type { PlacedAssignment };

/** The container port the master proxies to, published on the node (rows from before the column: the kind's). */
export const servicePortOf = (job: JobRow): number | null => job.servicePort ?? jobKind(job.kind).servicePort;

/** `host:port` where a running job's service port is published, or null (not running, no port). */
export async function serviceOrigin(deps: Deps, job: JobRow | undefined): Promise<string | null> {
  if (job?.status !== "running") return null;
  const port = servicePortOf(job);
  const a = job.assignments[0];
  const hostPort = port ? a?.hostPorts?.[String(port)] : undefined;
  if (!a || !hostPort) return null;
  const [node] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, a.nodeId));
  if (!node) return null;
  // Containers publish on the node's loopback only: a worker's is reached over its SSH session.
  return `127.0.0.1:${await nodeServicePort(deps, node.id, hostPort)}`;
}

/**
 * What a job's mounts are made of (jobMounts turns it into host paths), from the store. Its
 * training and, for a deployment, the deployment must exist; a dataset that is gone is left out
 * (launchJob refuses to start without it).
 */
export async function mountSources(deps: Deps, job: JobRow): Promise<MountSources> {
  const { store } = deps;
  const [training] = await store.db.select().from(store.t.trainings).where(eq(store.t.trainings.id, job.trainingId));
  if (!training) throw new Error(`training of job ${job.id} is gone`);
  const kind = jobKind(job.kind);
  let servedJobId: string | null = null;
  if (kind.model) {
    const [dep] = await store.db.select().from(store.t.deployments).where(eq(store.t.deployments.jobId, job.id));
    if (!dep) throw new Error(`the deployment of job ${job.id} is gone`);
    servedJobId = dep.sourceJobId;
  }
  const [ds] = job.dataset
    ? await store.db
        .select()
        .from(store.t.datasets)
        .where(and(eq(store.t.datasets.workspace, job.workspace), eq(store.t.datasets.name, job.dataset)))
    : [];
  return {
    job: { id: job.id, workspace: job.workspace, kind: job.kind },
    training: training.name,
    dataset: ds ? { name: ds.name, readOnly: ds.access === "read-only" } : null,
    builtinModel: training.type === "builtin" ? (findBuiltinModel(training.builtinModel ?? "")?.id ?? null) : null,
    servedJobId,
  };
}

/**
 * The job's mounts, ready on the storage every node shares: its folders exist and a built-in
 * model's files are copied into the data dir (the repository folder exists on the master only).
 */
async function prepareMounts(deps: Deps, job: JobRow): Promise<{ mounts: Mount[]; sources: MountSources }> {
  const sources = await mountSources(deps, job);
  if (job.dataset && !sources.dataset) throw new Error(`dataset ${job.dataset} no longer exists`);
  const layout = dataLayout(deps.config.dataDir);
  const mounts = jobMounts(layout, sources);
  for (const m of mounts) await mkdir(m.source, { recursive: true });
  if (sources.builtinModel) await copyBuiltinModel(layout, sources.builtinModel);
  return { mounts, sources };
}

async function copyBuiltinModel(layout: DataLayout, id: string): Promise<void> {
  const model = findBuiltinModel(id);
  if (model) await cp(model.dir, layout.builtinModel(model.id), { recursive: true, force: true });
}

async function nodeNets(deps: Deps, nodeIds: string[]): Promise<Record<string, NodeNet>> {
  const out: Record<string, NodeNet> = {};
  for (const id of nodeIds) {
    const [row] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, id));
    if (!row) continue;
    const choice = row.interfaces;
    const ifaces = row.networkInterfaces;
    const link = interconnect(row);
    out[id] = {
      name: row.name,
      address: link.address,
      dataInterface: link.interface,
      infinibandInterface: choice.infiniband ?? null,
      infinibandPorts: ifaces.filter((i) => i.kind === "InfiniBand").length,
      gpuMemoryMiB: Object.fromEntries(row.gpus.map((g) => [g.uuid, g.memoryMiB])),
    };
  }
  return out;
}

/** Port choices wait for each other: each sees the ports the ones before it claimed. */
const rendezvousLock = new Mutex();

/**
 * Claims a rendezvous port on the node of rank 0 (assignments[0]) for a multi-node job: one no
 * other live job there claimed and nothing there listens on (read from the node's /proc; when
 * that fails, the claims alone decide), recorded on the job at once so the next launch sees it.
 */
async function claimRendezvousPort(deps: Deps, job: JobRow, assignments: PlacedAssignment[]): Promise<number> {
  const first = assignments[0] as PlacedAssignment;
  return rendezvousLock.run(async () => {
    const { store } = deps;
    const live = await store.db
      .select({ id: store.t.jobs.id, assignments: store.t.jobs.assignments })
      .from(store.t.jobs)
      .where(inArray(store.t.jobs.status, ["starting", "running"]));
    const claimed = live.flatMap((j) => {
      const a = j.assignments[0];
      return j.id !== job.id && a?.nodeId === first.nodeId && a.rendezvousPort ? [a.rendezvousPort] : [];
    });
    const probe = await runOnNode(deps, first.nodeId, LISTENING_PORTS_SCRIPT, 15_000).catch(() => null);
    const listening = probe ? listeningPorts(probe.output) : [];
    const port = pickRendezvousPort([...claimed, ...listening], job.id);
    if (port === null)
      throw new Error(
        `no free rendezvous port on node ${first.nodeId} (${RENDEZVOUS_PORTS.first}-${RENDEZVOUS_PORTS.last})`,
      );
    first.rendezvousPort = port;
    await store.tx((db) =>
      db
        .update(store.t.jobs)
        .set({ assignments })
        .where(and(eq(store.t.jobs.id, job.id), eq(store.t.jobs.status, "starting"))),
    );
    return port;
  });
}

/** Starts a job that the scheduler moved to `starting`. Never throws: failures end the job. */
export async function launchJob(deps: Deps, job: JobRow): Promise<void> {
  const assignments = structuredClone(job.assignments);
  const say = (line: string) => deps.logs.append(job.id, `[hangar] ${line}\n`);
  const started: { nodeId: string; id: string }[] = [];
  let startingRank = "";
  try {
    const nets = await nodeNets(
      deps,
      assignments.map((a) => a.nodeId),
    );
    if (job.gpuOptions.includes("rdma-infiniband")) {
      const problem = rdmaProblem(
        assignments.map((a) => ({
          name: nets[a.nodeId]?.name ?? a.nodeId,
          infinibandPorts: nets[a.nodeId]?.infinibandPorts ?? 0,
        })),
      );
      if (problem) throw new Error(problem);
    }
    const { mounts, sources } = await prepareMounts(deps, job);
    const rendezvousPort = assignments.length > 1 ? await claimRendezvousPort(deps, job, assignments) : undefined;
    if (rendezvousPort) say(`rendezvous at ${nets[assignments[0]?.nodeId ?? ""]?.address}:${rendezvousPort}`);
    const specs = jobContainers(
      {
        id: job.id,
        image: job.image,
        command: job.command,
        parameters: job.parameters,
        gpuOptions: job.gpuOptions,
        mounts,
        cpus: job.cpus,
        memoryMiB: job.memoryMiB,
        ...(rendezvousPort ? { rendezvousPort } : {}),
      },
      assignments,
      nets,
    );
    for (const [i, a] of assignments.entries()) {
      // All ranks start or none: a rank that cannot start ends the job (the reason names it), and
      // the ones started are removed below.
      if (assignments.length > 1) startingRank = `rank ${i} on node ${nets[a.nodeId]?.name ?? a.nodeId}: `;
      const exec = await nodeExecutor(deps, a.nodeId);
      let spec = specs[i];
      if (!spec) continue;
      // A node without the master's filesystem mounts copies (jobs/staging/stageIn.ts).
      spec = { ...spec, mounts: await stageMounts(deps, job, a.nodeId, sources, say) };
      // A notebook's Jupyter token goes in by environment, never in the (visible) command.
      if (job.notebookToken)
        spec = { ...spec, env: { ...spec.env, JUPYTER_TOKEN: deps.secrets.open(job.notebookToken) } };
      // A fractional GPU's limits hold only with its node's MPS daemon running: start it first.
      for (const gpu of fractionalGpus([a])) {
        const mps = await startMps(deps, job.id, gpu);
        if (mps.enforced) spec = withMps(spec, gpu.uuid);
        else say(mps.note);
      }
      // Started detached: followJob reads the output from Docker's log, from the first line.
      const port = servicePortOf(job);
      const run = await startContainer(exec, port ? { ...spec, ports: [port] } : spec, () =>
        ensureImageOnNode(deps, job.image, exec, say),
      );
      for (const note of run.notes) say(note);
      started.push({ nodeId: a.nodeId, id: run.id });
      a.containerId = run.id;
      if (port) a.hostPorts = await exec.publishedPorts(run.id);
    }
    startingRank = "";
    const where = assignments.map((a) => a.nodeId).join(", ");
    const running = await moveJob(
      deps,
      job.id,
      "running",
      `running on ${where}`,
      {
        startedAt: deps.clock.now().toISOString(),
        assignments,
      },
      { from: ["starting"] },
    );
    await followJob(deps, running);
  } catch (err) {
    if (err instanceof StaleJobState) {
      // Cancelled while starting: the cancel already stopped what it could see; clean up the rest.
      for (const c of started) await (await nodeExecutor(deps, c.nodeId)).remove(c.id).catch(() => {});
      return;
    }
    const reason = `could not start: ${startingRank}${engineMessage(err)}`;
    say(reason);
    for (const c of started) await (await nodeExecutor(deps, c.nodeId).catch(() => null))?.remove(c.id).catch(() => {});
    await moveJob(
      deps,
      job.id,
      "failed",
      reason,
      { finishedAt: deps.clock.now().toISOString() },
      { code: "start-failed" },
    ).catch(() => {});
    deps.logs.end(job.id);
  }
}

/** Follows a running job's containers to the end (also after a master restart). */
/**
 * Creates and starts the container, asking Docker first and fixing what it reports, as the
 * docker CLI does: no such image → bring it to the node (pull or copy) and retry; name in use
 * (a leftover of an earlier attempt) → remove it and retry. The usual start thus costs no
 * extra round trip to the node.
 */
export async function startContainer(
  exec: Executor,
  spec: ContainerSpec,
  fetchImage: () => Promise<unknown>,
): Promise<{ id: string; notes: string[] }> {
  const fixed = new Set<string>();
  for (;;) {
    try {
      return await exec.start(spec);
    } catch (err) {
      const reason = err instanceof EngineError ? err.reason : null;
      if (reason === "no_such_image" && !fixed.has("image")) {
        fixed.add("image");
        await fetchImage();
      } else if (reason === "conflict" && !fixed.has("name")) {
        fixed.add("name");
        await exec.remove(spec.name);
      } else throw err;
    }
  }
}

export async function followJob(deps: Deps, job: JobRow): Promise<void> {
  const assignments = job.assignments;
  const multi = assignments.length > 1;
  // Ranks are one program: the first that fails ends the others (they would wait for it forever).
  let firstFailure: { rank: number; exit: number; stopped: number[] } | null = null;
  const running = new Set(assignments.keys());
  const stopOthers = async (failed: number) => {
    const stopped = [...running].filter((r) => r !== failed);
    await Promise.all(
      stopped.map(async (r) => {
        const a = assignments[r];
        if (!a?.containerId) return;
        await (await nodeExecutor(deps, a.nodeId).catch(() => null))?.stop(a.containerId, 10).catch(() => {});
      }),
    );
    return stopped;
  };
  const results = await Promise.all(
    assignments.map(async (a, rank) => {
      if (!a.containerId) return { exit: 255 };
      const exec = await nodeExecutor(deps, a.nodeId);
      const prefix = multi ? `[rank ${rank}] ` : "";
      let last = deps.logs.lastTimestamp(`${job.id}${multi ? `.${rank}` : ""}`);
      for await (const { ts, text } of exec.follow(a.containerId, last)) {
        deps.logs.append(job.id, prefix ? `${prefix}${text.slice(0, -1).replaceAll("\n", `\n${prefix}`)}\n` : text);
        last = ts;
        deps.logs.setLastTimestamp(`${job.id}${multi ? `.${rank}` : ""}`, ts, job.id);
      }
      const exit = await exec.waitExit(a.containerId);
      running.delete(rank);
      if (multi && exit !== 0 && !firstFailure) {
        firstFailure = { rank, exit, stopped: [] };
        // (A cancel stops every rank itself: nothing to say then.)
        const [now] = await deps.store.db
          .select({ status: deps.store.t.jobs.status })
          .from(deps.store.t.jobs)
          .where(eq(deps.store.t.jobs.id, job.id));
        if (now?.status === "running") {
          deps.logs.append(job.id, `[hangar] rank ${rank} exited ${exit}: stopping the other ranks\n`);
          firstFailure.stopped = await stopOthers(rank);
        }
      }
      await exec.remove(a.containerId);
      return { exit };
    }),
  ).catch((err: unknown) => ({ error: err }));
  if ("error" in results) {
    // The node went away mid-follow: node health decides whether the job is lost.
    deps.logger.warn("following a job stopped", { job: job.id, err: engineMessage(results.error) });
    return;
  }
  const failed = firstFailure as { rank: number; exit: number; stopped: number[] } | null;
  const failedRank = failed?.rank ?? results.findIndex((r) => r.exit !== 0);
  const exitCode = failedRank >= 0 ? (results[failedRank]?.exit ?? 1) : 0;
  const to: JobState = exitCode === 0 ? "succeeded" : "failed";
  let reason = exitCode === 0 ? "exited 0" : `exited ${exitCode}`;
  if (multi && exitCode !== 0) {
    const nodeId = assignments[failedRank]?.nodeId ?? "";
    const [node] = await deps.store.db
      .select({ name: deps.store.t.nodes.name })
      .from(deps.store.t.nodes)
      .where(eq(deps.store.t.nodes.id, nodeId));
    reason = rankEndReason(failedRank, node?.name ?? nodeId, exitCode, failed?.stopped ?? []);
  }
  // On a staged node /output comes home before the job ends; false: the job left `running` meanwhile.
  if (!(await finishOutput(deps, job, () => mountSources(deps, job), reason))) return;
  try {
    await moveJob(
      deps,
      job.id,
      to,
      reason,
      { exitCode, finishedAt: deps.clock.now().toISOString() },
      { from: ["running"] },
    );
  } catch (err) {
    if (!(err instanceof StaleJobState)) throw err;
  }
  deps.logs.end(job.id);
}

/** Stops a job's containers (cancel). Missing containers or nodes are fine. */
export async function stopJobContainers(deps: Deps, job: JobRow): Promise<void> {
  for (const a of job.assignments) {
    const exec = await nodeExecutor(deps, a.nodeId).catch(() => null);
    if (!exec) continue;
    const containers = await exec.list({ [JOB_LABEL]: job.id }).catch(() => []);
    for (const c of containers) {
      await exec.stop(c.id, 5).catch(() => {});
      await exec.remove(c.id).catch(() => {});
    }
  }
}
