// Effects of MPS (pure parts in mps.ts): which GPU's control daemon runs for which live
// fractional jobs, started on a job's start and stopped when the last job on the GPU is gone.
// Known in memory only: after a master restart a daemon left running is found by the next start
// on its GPU (the start command is idempotent) but not stopped until a job there ends again.
import { Mutex } from "../lib/mutex";
import type { NodeAddress } from "./manager";
import { MPS_MISSING, type MpsKey, mpsKey, mpsStartScript, mpsStopScript } from "./mps";

/** Runs a POSIX sh script on a node: exit code and output (stdout and stderr). */
export type NodeScriptRunner = (address: NodeAddress, script: string) => Promise<{ code: number; output: string }>;

export type MpsStart = { enforced: true; started: boolean } | { enforced: false; note: string };

interface Daemon {
  key: MpsKey;
  address: NodeAddress;
  /** job id → the sequence number when it was added (see mark). */
  jobs: Map<string, number>;
}

export class MpsDaemons {
  private readonly daemons = new Map<string, Daemon>();
  private readonly lock = new Mutex();
  private seq = 0;

  constructor(private readonly run: NodeScriptRunner) {}

  /** The GPUs with a daemon Hangar started, and the jobs on each. */
  running(): { nodeId: string; uuid: string; jobs: string[] }[] {
    return [...this.daemons.values()].map((d) => ({ ...d.key, jobs: [...d.jobs.keys()] }));
  }

  /**
   * Taken before reading which jobs are live: `release` leaves alone the jobs added after it
   * (they started after the read and are missing from it, not ended).
   */
  mark(): number {
    return this.seq;
  }

  /**
   * Makes the GPU's daemon run for the job. A node without the tool gets no daemon (the limits
   * stay unenforced: the note says so); any other failure throws, with the node's output.
   */
  ensure(jobId: string, key: MpsKey, address: NodeAddress): Promise<MpsStart> {
    return this.lock.run(async () => {
      const id = mpsKey(key);
      const known = this.daemons.get(id);
      const r = await this.run(address, mpsStartScript(key.uuid));
      if (r.code === MPS_MISSING)
        return {
          enforced: false,
          note: `node has no nvidia-cuda-mps-control: the fractional GPU limits of ${key.uuid} are not enforced`,
        };
      if (r.code !== 0)
        throw new Error(
          `the MPS control daemon of GPU ${key.uuid} did not start: ${r.output.trim() || `exit ${r.code}`}`,
        );
      const daemon = known ?? { key, address, jobs: new Map() };
      daemon.address = address;
      daemon.jobs.set(jobId, ++this.seq);
      this.daemons.set(id, daemon);
      return { enforced: true, started: r.output.includes("started") };
    });
  }

  /**
   * Forgets the jobs that are no longer live (of those known at `mark`) and stops the daemons
   * left without jobs. A stop that fails is tried again on the next call. Returns what stopped.
   */
  release(live: ReadonlySet<string>, mark: number): Promise<MpsKey[]> {
    return this.lock.run(async () => {
      const stopped: MpsKey[] = [];
      for (const [id, daemon] of this.daemons) {
        for (const [job, added] of daemon.jobs) if (added <= mark && !live.has(job)) daemon.jobs.delete(job);
        if (daemon.jobs.size > 0) continue;
        const r = await this.run(daemon.address, mpsStopScript(daemon.key.uuid)).catch(() => null);
        if (r?.code !== 0) continue;
        this.daemons.delete(id);
        stopped.push(daemon.key);
      }
      return stopped;
    });
  }
}
