// One schema for every setting, read once from env and flags. Nothing else reads process.env.
import { resolve } from "node:path";
import { validateCronExpression } from "cron";

export type StoreKind = "sqlite" | "postgres";

export interface Config {
  /** Where the SQLite file, logs, backups, keys and uploads live. */
  dataDir: string;
  /** API and web UI port (Flightbase's default). */
  port: number;
  /** Address the API listens on. */
  host: string;
  /** Bootstrap password for `root` on the very first start; generated and printed when unset. */
  rootPassword: string | undefined;
  /** Unset: SQLite file in the data dir. postgres://…: PostgreSQL. */
  databaseUrl: string | undefined;
  /** Cron expression of the daily backup (server local time). */
  backupCron: string;
  /** Backups older than this many days are deleted after each backup. */
  backupKeepDays: number;
  /** Lifetime of a login session token. */
  sessionHours: number;
  /** Requests an API key may make per 15-minute window. */
  apiKeyRateLimit: number;
  /** Failed logins of one account within 15 minutes before further attempts get 429. */
  loginMaxFailures: number;
  /** Largest JSON body accepted, in bytes. */
  maxJsonBytes: number;
  /** Jobs one user may have pending at once. */
  maxPendingJobsPerUser: number;
  /** Largest stored log of one job, in MiB (its head and tail are kept). */
  jobLogMaxMiB: number;
  /** Live log followers of one job, and across all jobs. */
  logFollowersPerJob: number;
  logFollowersTotal: number;
  /** Seconds between health probes of each node. */
  nodeProbeSeconds: number;
  /** Failed probes in a row after which a node turns `error`. */
  nodeLostAfter: number;
  /** The master's own Docker Engine socket (node `local`). */
  dockerSocket: string;
  /** Storage each workspace may use for datasets, in MiB. */
  workspaceQuotaMiB: number;
  /** Storage each training's code folder may use, in MiB. */
  codeQuotaMiB: number;
  /** Bytes all uploads in flight may hold in the staging folder together, in MiB. */
  stagingMiB: number;
  /** The built-in image registered at first start (and by `hangar images reinit`). */
  defaultImage: string;
  /** Queue policy of the cluster: fifo, lifo or drf. */
  queuePolicy: "fifo" | "lifo" | "drf";
  /** Passes a head job may fail to fit before later jobs go ahead of it. */
  schedulerMaxAttempts: number;
  /** A job pending longer than this fails (0: no limit). */
  pendingTimeoutSeconds: number;
  /** Jobs on a node in `error` this long become `lost` (and are requeued once). */
  jobLostAfterSeconds: number;
  /** The scheduler's backstop pass interval (submits and job ends wake it at once). */
  schedulerBackstopSeconds: number;
  /** Ports the SSH gateway gives running jobs, "min-max". */
  sshPorts: [number, number];
  /** Address the SSH gateway listens on. */
  sshHost: string;
  /** HTTPS port of the web UI and API (Bun serves TLS itself); null: no HTTPS listener. */
  frontPort: number | null;
  /**
   * Ports that notebooks and deployments are served on, one port per running app, so each is an
   * origin of its own (its pages cannot read the web UI's or another app's). "min-max"; "0": any
   * free port the system gives (tests).
   */
  appsPorts: [number, number] | "any";
  /** Address the HTTPS listener binds. */
  frontHost: string;
  /** PEM certificate (chain) and private key files of the HTTPS listener. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** The address people and workers reach the master at (printed URLs, node `local`'s IP); unset: the first LAN address. */
  advertiseHost: string | undefined;
  /** The master's InfiniBand IP: the interface holding it is recorded as node `local`'s InfiniBand interface. */
  ibIp: string | undefined;
  /** Where a `staged` worker (no shared filesystem) keeps the copies of what jobs mount (jobs/staging/). */
  stageCacheDir: string;
  /** Seconds between copies of a running job's /output from a `staged` worker back to the master. */
  stageSyncSeconds: number;
  /** A `staged` worker's cache of read-only inputs is trimmed to this (least recently used first). */
  stageCacheMaxGib: number;
  /** Cached inputs unused this long are removed from a `staged` worker. */
  stageCacheMaxDays: number;
}

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  parse: (raw: string | undefined) => Config[K];
}

class ConfigError extends Error {}

const int =
  (name: string, fallback: number, min: number, max: number) =>
  (raw: string | undefined): number => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
const num =
  (name: string, fallback: number, min: number, max: number) =>
  (raw: string | undefined): number => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
    return n;
  };
const str =
  (fallback: string) =>
  (raw: string | undefined): string =>
    raw === undefined || raw === "" ? fallback : raw;
const optional = (raw: string | undefined): string | undefined => (raw === "" ? undefined : raw);

const settings: { [K in keyof Config]: Setting<K> } = {
  dataDir: { key: "dataDir", env: "HANGAR_DATA_DIR", flag: "data-dir", parse: (r) => resolve(str("./data")(r)) },
  port: { key: "port", env: "HANGAR_PORT", flag: "port", parse: int("HANGAR_PORT", 56789, 0, 65535) },
  host: { key: "host", env: "HANGAR_HOST", flag: "host", parse: str("0.0.0.0") },
  rootPassword: { key: "rootPassword", env: "HANGAR_ROOT_PASSWORD", flag: "root-password", parse: optional },
  databaseUrl: {
    key: "databaseUrl",
    env: "DATABASE_URL",
    flag: "database-url",
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^postgres(ql)?:\/\//.test(v))
        throw new ConfigError(`DATABASE_URL must start with postgres:// (unset it for SQLite), got "${v}"`);
      return v;
    },
  },
  backupCron: {
    key: "backupCron",
    env: "HANGAR_BACKUP_CRON",
    flag: "backup-cron",
    parse: (r) => {
      const v = str("0 0 3 * * *")(r);
      const check = validateCronExpression(v);
      if (!check.valid) throw new ConfigError(`HANGAR_BACKUP_CRON is not a cron expression: "${v}"`);
      return v;
    },
  },
  backupKeepDays: {
    key: "backupKeepDays",
    env: "HANGAR_BACKUP_KEEP_DAYS",
    flag: "backup-keep-days",
    parse: int("HANGAR_BACKUP_KEEP_DAYS", 14, 1, 3650),
  },
  sessionHours: {
    key: "sessionHours",
    env: "HANGAR_SESSION_HOURS",
    flag: "session-hours",
    parse: int("HANGAR_SESSION_HOURS", 12, 1, 24 * 90),
  },
  apiKeyRateLimit: {
    key: "apiKeyRateLimit",
    env: "HANGAR_API_KEY_RATE_LIMIT",
    flag: "api-key-rate-limit",
    parse: int("HANGAR_API_KEY_RATE_LIMIT", 5000, 1, 10_000_000),
  },
  loginMaxFailures: {
    key: "loginMaxFailures",
    env: "HANGAR_LOGIN_MAX_FAILURES",
    flag: "login-max-failures",
    parse: int("HANGAR_LOGIN_MAX_FAILURES", 10, 1, 1000),
  },
  nodeProbeSeconds: {
    key: "nodeProbeSeconds",
    env: "HANGAR_NODE_PROBE_SECONDS",
    flag: "node-probe-seconds",
    parse: num("HANGAR_NODE_PROBE_SECONDS", 10, 0.2, 3600),
  },
  nodeLostAfter: {
    key: "nodeLostAfter",
    env: "HANGAR_NODE_LOST_AFTER",
    flag: "node-lost-after",
    parse: int("HANGAR_NODE_LOST_AFTER", 3, 1, 1000),
  },
  dockerSocket: {
    key: "dockerSocket",
    env: "HANGAR_DOCKER_SOCKET",
    flag: "docker-socket",
    parse: str("/var/run/docker.sock"),
  },
  workspaceQuotaMiB: {
    key: "workspaceQuotaMiB",
    env: "HANGAR_WORKSPACE_QUOTA_MB",
    flag: "workspace-quota-mb",
    parse: int("HANGAR_WORKSPACE_QUOTA_MB", 500 * 1024, 1, 1024 ** 3),
  },
  codeQuotaMiB: {
    key: "codeQuotaMiB",
    env: "HANGAR_CODE_QUOTA_MB",
    flag: "code-quota-mb",
    parse: int("HANGAR_CODE_QUOTA_MB", 10 * 1024, 1, 1024 ** 3),
  },
  stagingMiB: {
    key: "stagingMiB",
    env: "HANGAR_STAGING_MB",
    flag: "staging-mb",
    parse: int("HANGAR_STAGING_MB", 400 * 1024, 1, 1024 ** 3),
  },
  defaultImage: {
    key: "defaultImage",
    env: "HANGAR_DEFAULT_IMAGE",
    flag: "default-image",
    parse: str("pytorch/pytorch:latest"),
  },
  queuePolicy: {
    key: "queuePolicy",
    env: "HANGAR_QUEUE_POLICY",
    flag: "queue-policy",
    parse: (r) => {
      const v = str("fifo")(r);
      if (v !== "fifo" && v !== "lifo" && v !== "drf")
        throw new ConfigError(`HANGAR_QUEUE_POLICY must be fifo, lifo or drf, got "${v}"`);
      return v;
    },
  },
  schedulerMaxAttempts: {
    key: "schedulerMaxAttempts",
    env: "HANGAR_SCHEDULER_MAX_ATTEMPTS",
    flag: "scheduler-max-attempts",
    parse: int("HANGAR_SCHEDULER_MAX_ATTEMPTS", 3, 0, 1000),
  },
  pendingTimeoutSeconds: {
    key: "pendingTimeoutSeconds",
    env: "HANGAR_PENDING_TIMEOUT_SECONDS",
    flag: "pending-timeout-seconds",
    parse: int("HANGAR_PENDING_TIMEOUT_SECONDS", 0, 0, 365 * 86400),
  },
  jobLostAfterSeconds: {
    key: "jobLostAfterSeconds",
    env: "HANGAR_JOB_LOST_AFTER",
    flag: "job-lost-after",
    parse: num("HANGAR_JOB_LOST_AFTER", 60, 0, 86400),
  },
  schedulerBackstopSeconds: {
    key: "schedulerBackstopSeconds",
    env: "HANGAR_SCHEDULER_BACKSTOP_SECONDS",
    flag: "scheduler-backstop-seconds",
    parse: num("HANGAR_SCHEDULER_BACKSTOP_SECONDS", 5, 0.1, 3600),
  },
  sshPorts: {
    key: "sshPorts",
    env: "HANGAR_SSH_PORTS",
    flag: "ssh-ports",
    parse: (r) => {
      const v = str("30000-32767")(r);
      const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
      const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, -1];
      if (!m || min < 1 || max > 65535 || min > max)
        throw new ConfigError(`HANGAR_SSH_PORTS must be a range like 30000-32767, got "${v}"`);
      return [min, max];
    },
  },
  sshHost: { key: "sshHost", env: "HANGAR_SSH_HOST", flag: "ssh-host", parse: str("0.0.0.0") },
  appsPorts: {
    key: "appsPorts",
    env: "HANGAR_APPS_PORTS",
    flag: "apps-ports",
    parse: (r) => {
      const v = str("20000-20999")(r);
      if (v === "0") return "any";
      const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
      const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, -1];
      if (!m || min < 1 || max > 65535 || min > max)
        throw new ConfigError(`HANGAR_APPS_PORTS must be a range like 20000-20999 (or 0: any free port), got "${v}"`);
      return [min, max];
    },
  },
  frontPort: {
    key: "frontPort",
    env: "HANGAR_FRONT_PORT",
    flag: "front-port",
    parse: (r) => (r === undefined || r === "" ? null : int("HANGAR_FRONT_PORT", 0, 0, 65535)(r)),
  },
  frontHost: { key: "frontHost", env: "HANGAR_FRONT_HOST", flag: "front-host", parse: str("0.0.0.0") },
  tlsCert: { key: "tlsCert", env: "HANGAR_TLS_CERT", flag: "tls-cert", parse: optional },
  tlsKey: { key: "tlsKey", env: "HANGAR_TLS_KEY", flag: "tls-key", parse: optional },
  advertiseHost: { key: "advertiseHost", env: "HANGAR_ADVERTISE_HOST", flag: "advertise-host", parse: optional },
  ibIp: { key: "ibIp", env: "HANGAR_IB_IP", flag: "ib-ip", parse: optional },
  stageCacheDir: {
    key: "stageCacheDir",
    env: "HANGAR_STAGE_CACHE_DIR",
    flag: "stage-cache-dir",
    parse: (r) => {
      const v = str("/var/lib/hangar-cache")(r);
      if (!/^\/[A-Za-z0-9._/-]{1,200}$/.test(v) || v.split("/").includes(".."))
        throw new ConfigError(
          `HANGAR_STAGE_CACHE_DIR must be an absolute path of letters, digits and ._-/, got "${v}"`,
        );
      return v.replace(/\/+$/, "") || "/";
    },
  },
  stageSyncSeconds: {
    key: "stageSyncSeconds",
    env: "HANGAR_STAGE_SYNC_SECONDS",
    flag: "stage-sync-seconds",
    parse: num("HANGAR_STAGE_SYNC_SECONDS", 30, 0.1, 86400),
  },
  stageCacheMaxGib: {
    key: "stageCacheMaxGib",
    env: "HANGAR_STAGE_CACHE_MAX_GIB",
    flag: "stage-cache-max-gib",
    parse: num("HANGAR_STAGE_CACHE_MAX_GIB", 100, 0, 1_000_000),
  },
  stageCacheMaxDays: {
    key: "stageCacheMaxDays",
    env: "HANGAR_STAGE_CACHE_MAX_DAYS",
    flag: "stage-cache-max-days",
    parse: num("HANGAR_STAGE_CACHE_MAX_DAYS", 7, 0, 3650),
  },
  maxJsonBytes: {
    key: "maxJsonBytes",
    env: "HANGAR_MAX_JSON_BYTES",
    flag: "max-json-bytes",
    parse: int("HANGAR_MAX_JSON_BYTES", 1024 * 1024, 1024, 1024 * 1024 * 1024),
  },
  maxPendingJobsPerUser: {
    key: "maxPendingJobsPerUser",
    env: "HANGAR_MAX_PENDING_JOBS",
    flag: "max-pending-jobs",
    parse: int("HANGAR_MAX_PENDING_JOBS", 1000, 1, 1_000_000),
  },
  jobLogMaxMiB: {
    key: "jobLogMaxMiB",
    env: "HANGAR_JOB_LOG_MAX_MB",
    flag: "job-log-max-mb",
    parse: int("HANGAR_JOB_LOG_MAX_MB", 100, 1, 1024 * 1024),
  },
  logFollowersPerJob: {
    key: "logFollowersPerJob",
    env: "HANGAR_LOG_FOLLOWERS_PER_JOB",
    flag: "log-followers-per-job",
    parse: int("HANGAR_LOG_FOLLOWERS_PER_JOB", 10, 1, 10000),
  },
  logFollowersTotal: {
    key: "logFollowersTotal",
    env: "HANGAR_LOG_FOLLOWERS_TOTAL",
    flag: "log-followers-total",
    parse: int("HANGAR_LOG_FOLLOWERS_TOTAL", 200, 1, 100000),
  },
};

/** Flags (`--port 8080` or `--port=8080`) win over env. Unknown flags are an error. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: string[] = [],
  overrides: Partial<Config> = {},
): Config {
  const flags = parseFlags(argv);
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const s of Object.values(settings) as Setting<keyof Config>[]) {
    const raw = flags.get(s.flag) ?? env[s.env];
    flags.delete(s.flag);
    out[s.key] = s.key in overrides ? overrides[s.key] : s.parse(raw);
  }
  if (flags.size > 0) throw new ConfigError(`unknown option --${[...flags.keys()][0]}`);
  const config = out as Config;
  if (config.frontPort !== null && (!config.tlsCert || !config.tlsKey))
    throw new ConfigError("HANGAR_FRONT_PORT needs HANGAR_TLS_CERT and HANGAR_TLS_KEY (PEM files)");
  return config;
}

function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) throw new ConfigError(`unexpected argument "${a}"`);
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new ConfigError(`option ${a} needs a value`);
      flags.set(a.slice(2), v);
      i++;
    }
  }
  return flags;
}

export { ConfigError };
