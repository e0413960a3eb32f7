// Where the dashboard's data comes from: the shared typed client (src/client), every type derived
// from it. Tests and the benchmark hand the dashboard a Source of recorded data instead.
import { type Api, ApiError, type Data, makeApi, ok } from "../src/client/api";
import { followLog, type LogEnd } from "../src/client/stream";

export type Health = Data<Api["api"]["health"]["get"]>;
export type Me = Data<Api["api"]["me"]["get"]>;
export type NodeRow = Data<Api["api"]["nodes"]["get"]>["items"][number];
export type JobRow = Data<Api["api"]["jobs"]["get"]>["items"][number];
export type QueuePage = Data<Api["api"]["queue"]["get"]>;
export type QueueRow = QueuePage["items"][number];
export type WorkspaceRow = Data<Api["api"]["workspaces"]["get"]>["items"][number];
export type UserRow = Data<Api["api"]["users"]["get"]>["items"][number];
export type BackupRow = Data<Api["api"]["backups"]["get"]>["items"][number];
export type ProbeResult = Data<Api["api"]["nodes"]["probe"]["post"]>;
export type { LogEnd };

/** Everything the views show, from one round of polling. */
export interface Snapshot {
  health: Health;
  me: Me;
  nodes: NodeRow[];
  /** Live jobs and the most recent others, live first. */
  jobs: JobRow[];
  jobsTotal: number;
  queue: QueuePage;
  workspaces: WorkspaceRow[];
  users: UserRow[];
  backups: BackupRow[];
}

export interface LogHandlers {
  line: (text: string) => void;
  end: (end: LogEnd) => void;
}

export interface Source {
  /** Where it reads from, for the unreachable line. */
  readonly where: string;
  load(): Promise<Snapshot>;
  connect(nodeId: string): Promise<unknown>;
  disconnect(nodeId: string): Promise<unknown>;
  probe(node: NodeRow): Promise<ProbeResult>;
  cancel(jobId: string): Promise<unknown>;
  setActive(userId: string, active: boolean): Promise<unknown>;
  /** Resolves when the stream ends; abort with `signal`. */
  followLog(jobId: string, on: LogHandlers, signal: AbortSignal): Promise<void>;
}

const PAGE = { query: { limit: "500" } };
const RECENT = 300;

/**
 * The API as a Source. `token()` is asked on every call; `renew()` is called after a 401 (a
 * master restart rotates the local admin token) and says whether there is a new token to try.
 */
export function apiSource(baseUrl: string, token: () => string | null, renew: () => boolean = () => false): Source {
  const api = makeApi(baseUrl, token);
  const retry = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && renew()) return call();
      throw err;
    }
  };
  return {
    where: baseUrl,
    load: () =>
      retry(async () => {
        const [health, me] = await Promise.all([ok(api.api.health.get()), ok(api.api.me.get())]);
        const [nodes, live, recent, queue, workspaces, users, backups] = await Promise.all([
          ok(api.api.nodes.get(PAGE)),
          ok(api.api.jobs.get({ query: { status: "starting,running", limit: "500" } })),
          ok(api.api.jobs.get({ query: { limit: String(RECENT) } })),
          ok(api.api.queue.get()),
          ok(api.api.workspaces.get(PAGE)),
          ok(api.api.users.get(PAGE)),
          ok(api.api.backups.get(PAGE)),
        ]);
        return {
          health,
          me,
          nodes: nodes.items,
          jobs: mergeJobs(live.items, recent.items),
          jobsTotal: recent.total,
          queue,
          workspaces: workspaces.items,
          users: users.items,
          backups: backups.items,
        };
      }),
    connect: (id) => retry(() => ok(api.api.nodes({ id }).connect.post())),
    disconnect: (id) => retry(() => ok(api.api.nodes({ id }).disconnect.post())),
    probe: (n) => retry(() => ok(api.api.nodes.probe.post({ ip: n.ip, sshPort: n.sshPort, sshUser: n.sshUser }))),
    cancel: (id) => retry(() => ok(api.api.jobs({ id }).cancel.post())),
    setActive: (userId, active) => retry(() => ok(api.api.users({ userId }).patch({ active }))),
    followLog: (jobId, on, signal) => retry(() => followLog(baseUrl, token(), jobId, on, signal)),
  };
}

/** Live jobs first (newest first), then the rest newest first, each job once. */
export function mergeJobs(live: readonly JobRow[], recent: readonly JobRow[]): JobRow[] {
  const seen = new Set<string>();
  const out: JobRow[] = [];
  for (const j of [...live, ...recent]) {
    if (seen.has(j.id)) continue;
    seen.add(j.id);
    out.push(j);
  }
  const liveFirst = (j: JobRow) => (j.status === "running" || j.status === "starting" ? 0 : 1);
  return out.sort((a, b) => liveFirst(a) - liveFirst(b) || b.createdAt.localeCompare(a.createdAt));
}
