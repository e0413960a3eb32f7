// What differs between the kinds of job, in one table (as dstack's job configurators per run
// type): a `run` of a training, a `notebook` (Jupyter on the training's GPU share) and a
// `deployment` (a server of a job's output). Everything else — queueing, placement, starting,
// logs, cancel — is the same code for all three. Pure.

export const JOB_KIND_NAMES = ["run", "notebook", "deployment"] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];

export interface JobKind {
  /**
   * Which of its workspace's GPUs it uses: the training GPUs, or the deployment GPUs (a
   * scheduler pool of their own).
   */
  gpus: "training" | "deployment";
  /**
   * The container port the master proxies to, published on the node, when the job's row names
   * none (null: nothing to proxy; a deployment's port is its own, stored on the row).
   */
  servicePort: number | null;
  /** Requeued once when its node is lost (the default; a run takes its submitter's choice). */
  retryOnNodeLoss: boolean;
  /** The training's code folder at /code: edited by the job, or only read (a server). */
  code: "read-write" | "read-only";
  /** The job's dataset at /dataset and a built-in model's files at /builtin. */
  inputs: boolean;
  /** The output of the job it serves at /model, read-only. */
  model: boolean;
}

export const JOB_KINDS: Readonly<Record<JobKindName, Readonly<JobKind>>> = {
  run: { gpus: "training", servicePort: null, retryOnNodeLoss: true, code: "read-write", inputs: true, model: false },
  notebook: {
    gpus: "training",
    servicePort: 8888,
    retryOnNodeLoss: false,
    code: "read-write",
    inputs: true,
    model: false,
  },
  deployment: {
    gpus: "deployment",
    servicePort: null,
    retryOnNodeLoss: true,
    code: "read-only",
    inputs: false,
    model: true,
  },
};

export function isJobKind(name: string): name is JobKindName {
  return Object.hasOwn(JOB_KINDS, name);
}

/** The kind of a stored job (the column holds one of JOB_KIND_NAMES). */
export function jobKind(name: string): Readonly<JobKind> {
  if (!isJobKind(name)) throw new Error(`unknown job kind ${JSON.stringify(name)}`);
  return JOB_KINDS[name];
}
