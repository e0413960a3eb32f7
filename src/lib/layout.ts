// The data directory's map: every path Hangar keeps under HANGAR_DATA_DIR comes from here, so
// nothing else joins names onto the data dir. Pure (paths only, nothing is created).
//
//   hangar.db                                      SQLite store
//   hangar.pid                                     the running master
//   cluster-id                                     this master's id: the hangar.cluster label of its containers
//   log/YYYYMMDD.log                               access log, one file per UTC day
//   backup/                                        database backups
//   ssh/id_ed25519(.pub)                           the master's key (workers authorize it)
//   ssh/gateway_host_ed25519(.pub)                 the SSH gateway's host key
//   ssh/secrets.key                                the key sealing TOTP seeds and Jupyter tokens (0600)
//   run/docker-<node>.sock                         a worker's Docker, forwarded over its SSH session
//   run/local-admin.token                          the console's admin session (mode 0600, new at each start)
//   tmp/                                           staging: uploads, image build contexts
//   jobs/<job>/log, log.last, log.<rank>.last      job logs and the last Docker timestamp read (per rank)
//   jobs/<job>/staged/<node>/<name>.manifest       a read-write input as a staged node got it (merge base)
//   builtin/<model>/                               built-in model files, shared with every node
//   workspaces/<ws>/datasets/<ds>/                 datasets
//   workspaces/<ws>/trainings/<tr>/code/           a training's code (/code in its jobs)
//   workspaces/<ws>/trainings/<tr>/jobs/<job>/output/   a job's /output
//
// The data dir is the same path on every node (shared storage), so a job's mounts are paths of
// this layout; storage that differs per node would be a second layout with another root.
import { join } from "node:path";

export interface DataLayout {
  readonly root: string;
  readonly sqliteFile: string;
  readonly pidFile: string;
  readonly clusterIdFile: string;
  readonly accessLogs: string;
  accessLogFile(day: string): string;
  readonly backups: string;
  readonly sshDir: string;
  readonly masterKeyFile: string;
  readonly gatewayHostKeyFile: string;
  readonly secretsKeyFile: string;
  dockerForward(nodeId: string): string;
  readonly localAdminTokenFile: string;
  /** The file a node must read at the same path for shared storage (domain/storage.ts). */
  storageProbe(nodeId: string): string;
  readonly staging: string;
  jobLogDir(jobId: string): string;
  jobLog(jobId: string): string;
  /** `key`: a job id, or `<job>.<rank>` for one rank of a multi-node job. */
  jobLogLast(key: string): string;
  /** The manifest a staged node's copy of a read-write input is merged against (jobs/staging/copyBack.ts). */
  jobStageBase(jobId: string, nodeId: string, name: string): string;
  builtinModel(modelId: string): string;
  workspaceDatasets(ws: string): string;
  dataset(ws: string, ds: string): string;
  training(ws: string, tr: string): string;
  code(ws: string, tr: string): string;
  jobOutput(ws: string, tr: string, jobId: string): string;
}

export function dataLayout(root: string): DataLayout {
  const workspace = (ws: string) => join(root, "workspaces", ws);
  const training = (ws: string, tr: string) => join(workspace(ws), "trainings", tr);
  const jobLogDir = (jobId: string) => join(root, "jobs", jobId);
  const accessLogs = join(root, "log");
  const sshDir = join(root, "ssh");
  return {
    root,
    sqliteFile: join(root, "hangar.db"),
    pidFile: join(root, "hangar.pid"),
    clusterIdFile: join(root, "cluster-id"),
    accessLogs,
    accessLogFile: (day) => join(accessLogs, `${day}.log`),
    backups: join(root, "backup"),
    sshDir,
    masterKeyFile: join(sshDir, "id_ed25519"),
    gatewayHostKeyFile: join(sshDir, "gateway_host_ed25519"),
    secretsKeyFile: join(sshDir, "secrets.key"),
    dockerForward: (nodeId) => join(root, "run", `docker-${nodeId}.sock`),
    localAdminTokenFile: join(root, "run", "local-admin.token"),
    storageProbe: (nodeId) => join(root, "storage-probe", nodeId),
    staging: join(root, "tmp"),
    jobLogDir,
    jobLog: (jobId) => join(jobLogDir(jobId), "log"),
    // A multi-node job's ranks each have their own ("<job>.<rank>"), in the job's folder.
    jobLogLast: (key) => {
      const rank = /^(.+)\.(\d+)$/.exec(key);
      return rank ? join(jobLogDir(rank[1] as string), `log.${rank[2]}.last`) : join(jobLogDir(key), "log.last");
    },
    jobStageBase: (jobId, nodeId, name) => join(jobLogDir(jobId), "staged", nodeId, `${name}.manifest`),
    builtinModel: (modelId) => join(root, "builtin", modelId),
    workspaceDatasets: (ws) => join(workspace(ws), "datasets"),
    dataset: (ws, ds) => join(workspace(ws), "datasets", ds),
    training,
    code: (ws, tr) => join(training(ws, tr), "code"),
    jobOutput: (ws, tr, jobId) => join(training(ws, tr), "jobs", jobId, "output"),
  };
}
