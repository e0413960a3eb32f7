// The job-kind table and what reads it: the scheduler pool, the proxied port, the node-loss
// retry of a queued job, and the mounts — the same list for the container and for SFTP.
import { describe, expect, test } from "bun:test";
import { JOB_KIND_NAMES, JOB_KINDS, jobKind } from "../../src/jobs/kinds";
import { servicePortOf } from "../../src/jobs/runner";
import { jobContainers, jobMounts, type MountSources } from "../../src/jobs/spec";
import { type JobRow, queuedJob } from "../../src/jobs/transitions";
import { dataLayout } from "../../src/lib/layout";
import { deploymentPool, poolOf } from "../../src/scheduler/types";
import { sftpRoots } from "../../src/ssh/roots";

const layout = dataLayout("/srv/hangar");
const T = "/srv/hangar/workspaces/ws1/trainings/tr1";

const sources = (kind: string, extra: Partial<MountSources> = {}): MountSources => ({
  job: { id: "j1", workspace: "ws1", kind },
  training: "tr1",
  dataset: { name: "imgs", readOnly: true },
  builtinModel: "image-classification",
  servedJobId: "j0",
  ...extra,
});

describe("job kinds", () => {
  test.each([
    // kind, scheduler pool, service port of a row without one, node-loss retry of a queued job
    ["run", "ws1", null, true],
    ["notebook", "ws1", 8888, false],
    ["deployment", deploymentPool("ws1"), null, true],
  ] as const)("%s: pool %p, service port %p, retry on node loss %p", (kind, pool, port, retry) => {
    expect(poolOf({ workspace: "ws1", kind })).toBe(pool);
    expect(servicePortOf({ kind, servicePort: null } as JobRow)).toBe(port);
    expect(servicePortOf({ kind, servicePort: 9000 } as JobRow)).toBe(9000);
    const row = queuedJob("2026-01-01T00:00:00.000Z", {
      trainingId: "t",
      workspace: "ws1",
      name: "n",
      image: "img",
      command: "true",
      gpus: 1,
      kind,
      createdBy: "u",
    });
    expect(row.retryOnNodeLoss).toBe(retry);
    expect(row.servicePort).toBe(port);
  });

  test("a queued job's own service port and retry win over its kind's", () => {
    const row = queuedJob("2026-01-01T00:00:00.000Z", {
      trainingId: "t",
      workspace: "ws1",
      name: "n",
      image: "img",
      command: "true",
      gpus: 1,
      kind: "deployment",
      servicePort: 8000,
      retryOnNodeLoss: false,
      createdBy: "u",
    });
    expect(row).toMatchObject({ servicePort: 8000, retryOnNodeLoss: false });
  });

  test("every kind is in the table and nothing else is a kind", () => {
    expect(Object.keys(JOB_KINDS).sort()).toEqual([...JOB_KIND_NAMES].sort());
    for (const name of JOB_KIND_NAMES) expect(jobKind(name)).toBe(JOB_KINDS[name]);
    for (const name of ["training", "", "toString", "__proto__"])
      expect(() => jobKind(name)).toThrow(/unknown job kind/);
  });
});

describe("job mounts", () => {
  test("a run: code and output read-write, the built-in model and the dataset as the dataset says", () => {
    expect(jobMounts(layout, sources("run"))).toEqual([
      { source: `${T}/code`, target: "/code", readOnly: false },
      { source: `${T}/jobs/j1/output`, target: "/output", readOnly: false },
      { source: "/srv/hangar/builtin/image-classification", target: "/builtin", readOnly: true },
      { source: "/srv/hangar/workspaces/ws1/datasets/imgs", target: "/dataset", readOnly: true },
    ]);
    const plain = jobMounts(layout, sources("run", { builtinModel: null, dataset: { name: "d", readOnly: false } }));
    expect(plain.map((m) => [m.target, m.readOnly])).toEqual([
      ["/code", false],
      ["/output", false],
      ["/dataset", false],
    ]);
    expect(jobMounts(layout, sources("run", { dataset: null, builtinModel: null })).map((m) => m.target)).toEqual([
      "/code",
      "/output",
    ]);
  });

  test("a notebook mounts like a run", () => {
    expect(jobMounts(layout, sources("notebook"))).toEqual(jobMounts(layout, sources("run")));
  });

  test("a deployment: code read-only, the served job's output at /model, no dataset or built-in files", () => {
    expect(jobMounts(layout, sources("deployment"))).toEqual([
      { source: `${T}/code`, target: "/code", readOnly: true },
      { source: `${T}/jobs/j1/output`, target: "/output", readOnly: false },
      { source: `${T}/jobs/j0/output`, target: "/model", readOnly: true },
    ]);
    expect(jobMounts(layout, sources("deployment", { servedJobId: null })).map((m) => m.target)).toEqual([
      "/code",
      "/output",
    ]);
  });

  test.each(JOB_KIND_NAMES)("%s: the container's mounts are the SFTP roots", (kind) => {
    const mounts = jobMounts(layout, sources(kind));
    const [spec] = jobContainers(
      { id: "j1", image: "img", command: "true", parameters: {}, gpuOptions: [], mounts },
      [{ nodeId: "a", gpuUuids: [] }],
      {},
    );
    const roots = sftpRoots(mounts);
    expect(roots.length).toBeGreaterThanOrEqual(2);
    expect(roots.map((r) => ({ source: r.dir, target: r.prefix, readOnly: r.readOnly }))).toEqual(
      (spec?.mounts ?? []).map((m) => ({ source: m.source, target: m.target, readOnly: m.readOnly === true })),
    );
  });
});
