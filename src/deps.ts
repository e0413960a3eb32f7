// What services get: the store, the clock, settings, a logger and the process-wide counters.

import type { AccessLog } from "./accesslog/writer";
import { PrincipalCache } from "./auth/cache";
import { FailureWindow, RateLimiter } from "./auth/limits";
import type { Config } from "./config";
import { LogHub } from "./jobs/logs";
import type { Clock } from "./lib/clock";
import type { Logger } from "./lib/logger";
import { ReadCache } from "./lib/readCache";
import { NodeManager } from "./nodes/manager";
import { loadOrCreateMasterKey, type MasterKey } from "./ssh/keys";
import type { Store } from "./store/store";

export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  accessLog: AccessLog;
  loginFailures: FailureWindow;
  apiKeyLimiter: RateLimiter;
  principals: PrincipalCache;
  /** The master's SSH identity (workers authorize its public key). */
  masterKey: MasterKey;
  /** SSH sessions, Docker engines and health of the nodes. */
  nodes: NodeManager;
  /** GPUs held by live jobs on a node (the scheduler fills this in). */
  gpusInUse: (nodeId: string) => number;
  /** Training GPUs held by live jobs of a workspace (the scheduler fills this in). */
  workspaceGpusInUse: (workspace: string) => number;
  /** Called after any job state change: wakes the scheduler and refreshes GPU usage. */
  jobsChanged: () => void;
  /** The SSH gateway port of a running job (null when it has none). */
  sshPortOf: (jobId: string) => number | null;
  /** Job logs on disk and their live followers. */
  logs: LogHub;
  /** Serialized pages of the users list (GET /api/users), valid until the next write. */
  userPages: ReadCache<Blob>;
}

type Derived =
  | "loginFailures"
  | "apiKeyLimiter"
  | "principals"
  | "userPages"
  | "masterKey"
  | "nodes"
  | "gpusInUse"
  | "workspaceGpusInUse"
  | "jobsChanged"
  | "sshPortOf"
  | "logs";

export function createDeps(base: Omit<Deps, Derived>): Deps {
  const masterKey = loadOrCreateMasterKey(base.config.dataDir);
  return {
    ...base,
    masterKey,
    nodes: new NodeManager(base.config, masterKey, base.logger, base.clock),
    gpusInUse: () => 0,
    workspaceGpusInUse: () => 0,
    jobsChanged: () => {},
    sshPortOf: () => null,
    logs: new LogHub(base.config.dataDir),
    loginFailures: new FailureWindow(base.config.loginMaxFailures),
    apiKeyLimiter: new RateLimiter(base.config.apiKeyRateLimit),
    principals: new PrincipalCache(),
    userPages: new ReadCache(base.store.generation),
  };
}
