// Test factories: the objects most tests need, made through the API with defaults, checked.
import type { TestMaster } from "./testMaster";

/** A usage period that holds on any test clock: workspaces made with it are active. */
export const OPEN_PERIOD = { startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z" } as const;

export interface WorkspaceFields {
  trainingGpus?: number;
  deploymentGpus?: number;
  /** CPU cores and memory (MiB) shared by its jobs; 0: no limit. */
  cpus?: number;
  memoryMiB?: number;
  manager?: string;
  users?: readonly string[];
  startsAt?: string;
  endsAt?: string;
  description?: string;
}

/** A workspace made by `token` (an admin): open period, 1 training GPU, root as manager. */
export async function makeWorkspace(m: TestMaster, token: string, name: string, fields: WorkspaceFields = {}) {
  const res = await m.json("POST", "/api/workspaces", {
    token,
    body: { name, ...OPEN_PERIOD, trainingGpus: 1, deploymentGpus: 0, manager: "root", users: [], ...fields },
  });
  if (res.status !== 201) throw new Error(`workspace ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A training made by `token` in `ws`: advanced, 1 GPU, private unless `fields` say otherwise. */
export async function makeTraining(
  m: TestMaster,
  token: string,
  ws: string,
  name: string,
  fields: Record<string, unknown> = {},
) {
  const res = await m.json("POST", `/api/workspaces/${ws}/trainings`, {
    token,
    body: { name, type: "advanced", gpus: 1, access: "private", ...fields },
  });
  if (res.status !== 201) throw new Error(`training ${ws}/${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
