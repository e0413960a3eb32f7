// What services get: the store, the clock, settings, a logger and the process-wide state
// (counters, caches, GPU usage, job signals, SSH ports, notebook use). Built once, here; nothing
// assigns to it afterwards.

import type { AccessLog } from "./accesslog/writer";
import { PrincipalCache } from "./auth/cache";
import { LoginThrottle, RateLimiter, Semaphore } from "./auth/limits";
import { TotpReplayGuard } from "./auth/totp";
import type { Config } from "./config";
import { AppOrigins } from "./http/appOrigins";
import { LogHub } from "./jobs/logs";
import type { Clock } from "./lib/clock";
import { dataLayout } from "./lib/layout";
import type { Logger } from "./lib/logger";
import { ReadCache } from "./lib/readCache";
import { SecretBox } from "./lib/sealed";
import { ChangeSignal } from "./lib/signal";
import { NodeManager } from "./nodes/manager";
import { NotebookUse } from "./notebooks/use";
import { GpuUsage } from "./scheduler/usage";
import { loadOrCreateMasterKey, type MasterKey } from "./ssh/keys";
import { SshPorts } from "./ssh/ports";
import type { Store } from "./store/store";

export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  accessLog: AccessLog;
  loginThrottle: LoginThrottle;
  /** Bounds concurrent argon2 password checks (each takes ~64 MiB and a core for a moment). */
  passwordChecks: Semaphore;
  /** Seals secrets stored in the database (TOTP seeds, Jupyter tokens). */
  secrets: SecretBox;
  /** Refuses a TOTP code used before. */
  totpCodes: TotpReplayGuard;
  apiKeyLimiter: RateLimiter;
  principals: PrincipalCache;
  /** The master's SSH identity (workers authorize its public key). */
  masterKey: MasterKey;
  /** SSH sessions, Docker engines and health of the nodes. */
  nodes: NodeManager;
  /** GPUs held by live jobs per node and per workspace pool (the scheduler keeps it current). */
  gpuUsage: GpuUsage;
  /** Told after any job change (submit, state change): the scheduler subscribes and wakes. */
  jobSignals: ChangeSignal;
  /** The SSH gateway port of each running job (the gateway registers them). */
  sshPorts: SshPorts;
  /** When each notebook was last used through the proxy (for the idle timeout). */
  notebookUse: NotebookUse;
  /** Job logs on disk and their live followers. */
  logs: LogHub;
  /** The listeners of notebooks and deployments, each on its own port, and their login tickets. */
  apps: AppOrigins;
  /** Serialized pages of the users list (GET /api/users), valid until the next write. */
  userPages: ReadCache<Blob>;
}

type Derived =
  | "loginThrottle"
  | "passwordChecks"
  | "totpCodes"
  | "secrets"
  | "apiKeyLimiter"
  | "principals"
  | "userPages"
  | "masterKey"
  | "nodes"
  | "gpuUsage"
  | "jobSignals"
  | "sshPorts"
  | "notebookUse"
  | "apps"
  | "logs";

export function createDeps(base: Omit<Deps, Derived>): Deps {
  const masterKey = loadOrCreateMasterKey(base.config.dataDir);
  return {
    ...base,
    masterKey,
    nodes: new NodeManager(base.config, masterKey, base.logger, base.clock),
    gpuUsage: new GpuUsage(),
    jobSignals: new ChangeSignal(),
    sshPorts: new SshPorts(),
    notebookUse: new NotebookUse(),
    apps: new AppOrigins(base.config, base.logger),
    logs: new LogHub(base.config.dataDir, {
      maxBytes: base.config.jobLogMaxMiB * 1024 * 1024,
      followersPerJob: base.config.logFollowersPerJob,
      followersTotal: base.config.logFollowersTotal,
    }),
    loginThrottle: new LoginThrottle(base.config.loginMaxFailures),
    passwordChecks: new Semaphore(2, 64),
    totpCodes: new TotpReplayGuard(),
    secrets: SecretBox.loadOrCreate(dataLayout(base.config.dataDir).secretsKeyFile),
    apiKeyLimiter: new RateLimiter(base.config.apiKeyRateLimit),
    principals: new PrincipalCache(),
    userPages: new ReadCache(base.store.generation),
  };
}
