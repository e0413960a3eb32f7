// A cap on pending jobs per user (issue 10, low): concurrent submits never pass it together, and
// past it a submit is a 429 naming the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("pending jobs per user on %s", (target) => {
  let m: TestMaster;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    // No scheduler: every job stays pending.
    m = await startTestMaster(target, { maxPendingJobsPerUser: 3 });
    const root = await m.rootToken();
    alice = await m.userWithToken("alice");
    bob = await m.userWithToken("bob");
    await makeWorkspace(m, root, "cap-ws", { trainingGpus: 0, users: ["alice", "bob"] });
    await makeTraining(m, alice, "cap-ws", "t1", { gpus: 0 });
    await makeTraining(m, bob, "cap-ws", "t2", { gpus: 0 });
  });
  afterAll(() => m.close());

  const submit = (token: string, tr: string, name: string, sets = 1) =>
    m.json("POST", `/api/workspaces/cap-ws/trainings/${tr}/jobs`, {
      token,
      body: {
        image: BUSYBOX_IMAGE,
        name,
        command: "true",
        gpus: 0,
        ...(sets > 1 ? { parameterSets: Array.from({ length: sets }, (_, i) => ({ i })) } : {}),
      },
    });

  test("8 concurrent submits with a cap of 3: 3 created, 5 × 429 too_many_pending", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(alice, "t1", `j${i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    const refused = results.find((r) => r.status === 429);
    expect(refused?.body.error.code).toBe("too_many_pending");
    expect(refused?.body.error.message).toContain("HANGAR_MAX_PENDING_JOBS");
    const jobs = await m.json("GET", "/api/workspaces/cap-ws/trainings/t1/jobs", { token: alice });
    expect(jobs.body.total).toBe(3);
  });

  test("the cap is per user, and a sweep counts every job it makes", async () => {
    expect((await submit(bob, "t2", "sweep", 4)).status).toBe(429);
    expect((await submit(bob, "t2", "sweep", 3)).status).toBe(201);
    expect((await submit(bob, "t2", "one")).status).toBe(429);
  });
});
